"""`seedbot ...`: run the bot, generate from the shell, manage quotas, check the set-up.

    main.py      the parser (argparse), logging, settings, dispatch and error lines
    run.py       `seedbot run`: the platforms from the plug-ins, health server, signals
    generate.py  `seedbot generate`: one job as cli:local, images written to --out
    progress.py  what generate shows while it works (rich on a terminal, plain lines if not)
    admin.py     quota, settings, stats, audit (every change audited)
    backup.py    `seedbot backup`: SQLite's online backup
`seedbot doctor` is bot.app.doctor.
"""

from bot.app.cli.main import main

__all__ = ["main"]
