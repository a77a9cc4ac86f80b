"""Play mode: a student plays one side against the model's own negotiator, alone or as a class.

- ``game``: the game itself (the model at one world, the student at one side of each table);
- ``debrief``: how a game went, against the Pareto frontier, the Nash point and the agent
  playing itself from the same start;
- ``classroom``: the class's games in SQLite (``linkage-app --class-db``);
- ``web``: the pages and the JSON API, served by ``linkage-app`` beside the seminar app.

Nothing in ``sim`` imports this package; it imports the model, never the seminar page.
"""
