#!/usr/bin/env python3
"""without_agent.py FILE — FILE (a JSON summary or Prometheus text from
tallyd) without the agent's figures about itself: the JSON's last member,
"agent", and the families tally_agent_*, tally_source_*, tally_collector_*
and tally_exporter_*. They count what one agent did since it started, so
two runs that must give the same output differ there; byte comparisons
of two runs' files leave them out (as they leave out generated_at)."""
import re
import sys

text = open(sys.argv[1]).read()
cut = text.find(',\n "agent": ')
if cut >= 0:
    text = text[:cut] + "\n}\n"
agent = re.compile(r"(# (HELP|TYPE) )?tally_(agent|source|collector|exporter)_")
sys.stdout.write("".join(l for l in text.splitlines(True) if not agent.match(l)))
