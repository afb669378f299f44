#!/usr/bin/env python3
"""--help, the man page (lambdeck.1) and bash completion (contrib/lambdeck.bash) name the
same options (issue 22): every option a command's --help lists is in that command's man page
entry and in its completion list, and the global options likewise. The completion completes
saved events and template:NAME after --event, vim after --keymap, templates after
--template. They are kept in step by hand (no generator yet); this test is the guard."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

LAM = os.environ["LAMBDECK"]
SRC = os.environ["LAMBDECK_SRC"]
COMMANDS = ["functions", "build", "deploy", "invoke", "events", "replay", "logs", "test",
            "emulate", "doctor"]
# words in help prose that look like options but belong to other programs
NOT_OURS = {"--junitxml"}
fails = 0


def check(ok, what, detail=""):
    global fails
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else ": " + detail))
    if not ok:
        fails += 1


def options(text):
    return {o for o in re.findall(r"(?<![\w-])(--[a-z][a-z-]*[a-z])", text)} - NOT_OURS


def help_of(*args):
    return subprocess.run([LAM, *args, "--help"], capture_output=True, text=True, check=True).stdout


man = open(os.path.join(SRC, "lambdeck.1")).read().replace("\\-", "-")
comp = open(os.path.join(SRC, "contrib", "lambdeck.bash")).read()

# man: COMMANDS entries by command (replay --list, emulate --env are entries of their own)
section = man.split(".SH COMMANDS", 1)[1].split("\n.SH ", 1)[0]
man_cmd = {}
for block in section.split("\n.TP\n"):
    m = re.match(r'\s*\.BR\s+"?([a-z]+)', block)
    if m:
        man_cmd[m.group(1)] = man_cmd.get(m.group(1), "") + block
man_globals = man.split(".SH OPTIONS", 1)[1].split("\n.SH ", 1)[0]

# completion: `cmd) opts="..." ;;` and the globals
comp_cmd = {c: options(m) for c, m in re.findall(r'\n\t([a-z]+)\) opts="([^"]*)"', comp)}
comp_globals = options(re.search(r'local globals="([^"]*)"', comp).group(1))

# global options a command's help mentions are the man page's OPTIONS, checked below
global_opts = options(help_of().split("Options:", 1)[1].split("Environment:", 1)[0])
for cmd in COMMANDS:
    want = options(help_of(cmd)) - {"--help", "--project"} - global_opts
    missing_man = sorted(o for o in want if o not in options(man_cmd.get(cmd, "")))
    check(not missing_man, "%s: the man page names every --help option" % cmd, str(missing_man))
    missing_comp = sorted(want - comp_cmd.get(cmd, set()) - comp_globals)
    check(not missing_comp, "%s: completion offers every --help option" % cmd, str(missing_comp))

want = global_opts - {"--help"}
check(not sorted(want - options(man_globals)), "global options in the man page",
      str(sorted(want - options(man_globals))))
check(not sorted(want - comp_globals), "global options in the completion",
      str(sorted(want - comp_globals)))

# completion behaviour, without the bash-completion package: its two helpers stubbed
tmp = tempfile.mkdtemp(prefix="lk-helpsync.")
try:
    proj = os.path.join(tmp, "p")
    subprocess.run(["bash", os.path.join(SRC, "tests/lib/fixture_copy.sh"), "examples/hello-python", proj],
                   check=True)
    stub = r'''
_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${words[cword]};
	prev=${words[cword-1]}; split=false; }
_filedir() { :; }
source "$1"
shift
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_lambdeck
printf '%s\n' "${COMPREPLY[@]}"
'''
    env = dict(os.environ, PATH=os.path.dirname(LAM) + ":" + os.environ.get("PATH", "/usr/bin:/bin"))

    def complete(*words):
        r = subprocess.run(["bash", "-c", stub, "_", os.path.join(SRC, "contrib", "lambdeck.bash"),
                            *words], capture_output=True, text=True, env=env, cwd=proj)
        return set(r.stdout.split())

    got = complete("lambdeck", "invoke", "HelloFunction", "--event", "")
    check("ada" in got and "template:s3-put" in got and not any(g.endswith(".snapshot") for g in got),
          "--event completes saved events and templates", str(sorted(got))[:300])
    got = complete("lambdeck", "invoke", "HelloFunction", "--event", "template:s3")
    check("template:s3-put" in got and "ada" not in got, "--event template:s3 narrows", str(sorted(got)))
    got = complete("lambdeck", "--keymap", "v")
    check(got == {"vim"}, "--keymap completes the built-in vim map", str(got))
    got = complete("lambdeck", "events", "new", "HelloFunction", "x", "--template", "s3-p")
    check("s3-put" in got, "--template completes template names", str(got))
    got = complete("lambdeck", "emulate", "--exit-w")
    check(got == {"--exit-when-unused", "--exit-with-parent"}, "emulate --exit-* completed", str(got))
    got = complete("lambdeck", "invoke", "")
    check({"HelloFunction", "OrdersFunction"} <= got, "invoke completes function names", str(got))
finally:
    shutil.rmtree(tmp)
sys.exit(1 if fails else 0)
