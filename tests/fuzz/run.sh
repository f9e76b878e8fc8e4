#!/bin/sh
# make fuzz: run the config-parser fuzzer for a bounded time (seconds), starting from the
# committed corpus; new interesting inputs land in build/fuzz/corpus, crashes in build/fuzz/.
set -eu
bin=$1 secs=${2:-60}
mkdir -p build/fuzz/corpus
exec "$bin" -max_total_time="$secs" -max_len=8192 -timeout=10 -artifact_prefix=build/fuzz/ \
        -dict=tests/fuzz/config.dict build/fuzz/corpus tests/fuzz/corpus
