# The .t runner itself (tests/cli/README.md): each case counts once; a case
# whose precondition (`@`) fails is skipped and says why.
$ printf '$ echo hi\n> hi\n$ false\n' > $T/a.t && sh tests/cli/run_t.sh $T/a.t
? 1
~ ^ok 1 - a\.t:1$
~ ^not ok 2 - a\.t:3$
~ ^# passed 1 failed 1$

$ printf '$ echo hi\n@ echo "no pseudo-terminal here" >&2; false\n> hi\n$ true\n@ true\n' > $T/s.t && sh tests/cli/run_t.sh $T/s.t
~ ^ok 1 - s\.t:1 # SKIP needs: echo .* \(no pseudo-terminal here\)$
~ ^ok 2 - s\.t:4$
~ ^# skipped 1$
~ ^# passed 1 failed 0$

# the prompt test is skipped, with the reason, where script cannot make a pty
$ mkdir $T/bin && printf '#!/bin/sh\necho "script: failed to create pseudo-terminal" >&2\nexit 1\n' > $T/bin/script && chmod +x $T/bin/script && grep -A4 '^\$ .*script -qec' tests/cli/host.t > $T/pty.t && PATH="$T/bin:$PATH" sh tests/cli/run_t.sh $T/pty.t
~ ^ok 1 - pty\.t:1 # SKIP needs: script .*failed to create pseudo-terminal
~ ^# skipped 1$
