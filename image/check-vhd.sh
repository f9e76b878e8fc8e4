#!/bin/sh
# Is FILE a VHD that Azure accepts? Fixed (not dynamic), virtual size a whole number of MiB,
# file size = virtual size + the 512-byte footer. `-f vpc` matters: qemu-img probes a fixed VHD
# as raw.   check-vhd.sh FILE.vhd
set -eu
VHD=${1:?usage: check-vhd.sh FILE.vhd}
MiB=1048576
info=$(qemu-img info -f vpc --output=json "$VHD")
vsize=$(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')
fsize=$(stat -c %s "$VHD")
footer=$(tail -c 512 "$VHD" | head -c 8)
# footer: cookie "conectix", disk type (big-endian u32 at offset 60) 2 = fixed
dtype=$(tail -c 512 "$VHD" | od -An -tu1 -j60 -N4 | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
bad=
[ "$footer" = conectix ] || bad="$bad no VHD footer;"
[ "$dtype" = 2 ] || bad="$bad disk type $dtype (2 = fixed);"
[ $((vsize % MiB)) -eq 0 ] || bad="$bad virtual size $vsize is not a whole number of MiB;"
[ "$fsize" -eq $((vsize + 512)) ] || bad="$bad file size $fsize != virtual size + 512;"
if [ -n "$bad" ]; then
        echo "check-vhd: $VHD is not an Azure-valid VHD:$bad" >&2
        exit 1
fi
echo "check-vhd: $VHD OK: fixed VHD, virtual size $((vsize / MiB)) MiB ($vsize bytes), file $fsize bytes" >&2
