#!/bin/sh
# make demo. Until the data plane lands, the demo only checks the example configs and shows
# what nestrouterd would do on an empty system; it says so.
set -eu
cd "$(dirname "$0")/.."
echo "== nestrouter demo (configuration stage: no kernel state is touched yet) =="
for f in configs/*.yaml; do
        build/nestrouterd --check "$f"
done
echo
echo "== what nestrouterd would apply for configs/azure-nested.yaml on an empty system =="
build/nestrouterd --plan configs/azure-nested.yaml
