#!/bin/sh
# Image outputs from the raw disk:
#   convert.sh qcow2 IMAGE.raw    IMAGE.qcow2, zstd-compressed, for QEMU/KVM and libvirt
#   convert.sh vhd IMAGE.raw      IMAGE.vhd, the Azure upload: a FIXED VHD whose virtual size is
#                                 a whole number of MiB, file size = virtual size + 512-byte footer
set -eu
what=${1:?usage: convert.sh qcow2|vhd IMAGE.raw}
RAW=${2:?usage: convert.sh qcow2|vhd IMAGE.raw}
BASE=${RAW%.raw}
MiB=1048576
P=; [ -t 2 ] && P=-p     # progress on a terminal only
case $what in
qcow2)
        qemu-img convert $P -f raw -O qcow2 -c -o compression_type=zstd "$RAW" "$BASE.qcow2.tmp"
        mv "$BASE.qcow2.tmp" "$BASE.qcow2"
        echo "convert: $BASE.qcow2 $(( $(stat -c %s "$BASE.qcow2") / MiB )) MiB" >&2 ;;
vhd)
        rsize=$(stat -c %s "$RAW")
        [ $((rsize % MiB)) -eq 0 ] || { echo "convert: $RAW is not a whole number of MiB" >&2; exit 1; }
        # force_size: without it qemu-img rounds up to a CHS geometry and Azure rejects the size
        qemu-img convert $P -f raw -O vpc -o subformat=fixed,force_size "$RAW" "$BASE.vhd.tmp"
        mv "$BASE.vhd.tmp" "$BASE.vhd"
        "$(dirname "$0")/check-vhd.sh" "$BASE.vhd" ;;
*)
        echo "usage: convert.sh qcow2|vhd IMAGE.raw" >&2; exit 2 ;;
esac
