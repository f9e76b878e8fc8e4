# The appliance image (included by the Makefile; docs/image.md). Root on a Debian 12 host.
#   make image       build/image/nestrouter.raw (+ .qcow2): Debian 12 + nestrouter, BIOS and UEFI
#   make vhd         build/image/nestrouter.vhd: the Azure upload (fixed VHD, whole MiB)
#   make run         boot the image in QEMU in the simulated Azure VNet (serial console here)
#   make test-image  the boot test: BIOS and UEFI, cloud-init seed, READY, a guest's traffic;
#                    then the image as nestrouterd's nested guest, reading its cloud_init: seed
#   make test-image-guest  only the latter (tests/netns/test-guests-image.sh)
#   make image-b     build/image/b/nestrouter.raw: the same tree built again (on the cached root
#                    filesystem), image B of the boot test's upgrade (re-image) step
# nestrouter comes in as its Debian package (make deb, image/deb/). The raw image is rebuilt when
# the package, rootfs/, image/, docs or configs change; the Debian
# root filesystem under it is cached in build/image/cache (IMAGE_REFRESH=1 rebuilds it, e.g. for
# security updates).
IMAGE_OUT    := $(BUILD)/image
IMAGE_RAW    := $(IMAGE_OUT)/nestrouter.raw
IMAGE_VHD    := $(IMAGE_OUT)/nestrouter.vhd
IMAGE_B      := $(IMAGE_OUT)/b/nestrouter.raw
IMAGE_INPUTS := $(shell find image rootfs -type f 2>/dev/null) $(wildcard docs/*.md configs/*.yaml)

.PHONY: image image-b vhd run test-image test-image-guest image-deps image-clean
image-deps:
	@image/deps.sh

image: $(IMAGE_RAW)

$(IMAGE_RAW): $(DEB) $(BUILD)/nestrouterd $(IMAGE_INPUTS) | deps image-deps
	@OUT=$(IMAGE_OUT) DEB=$(DEB) image/build.sh

# B is built after A, so it is always the newer build with its own build id
image-b: $(IMAGE_B)

$(IMAGE_B): $(IMAGE_RAW)
	@OUT=$(IMAGE_OUT)/b CACHE=$(IMAGE_OUT)/cache QCOW2=0 DEB=$(DEB) image/build.sh

$(IMAGE_VHD): $(IMAGE_RAW)
	@image/convert.sh vhd $(IMAGE_RAW)

vhd: $(IMAGE_VHD)
	@image/check-vhd.sh $(IMAGE_VHD)
	@qemu-img info -f vpc $(IMAGE_VHD)

run: $(IMAGE_RAW) | deps image-deps
	@image/run.sh

# both run, whatever the first says; either failing fails the target
test-image: $(IMAGE_RAW) $(IMAGE_VHD) $(IMAGE_B) $(BUILD)/nestrouterctl $(BUILD)/nestrouter-virt | deps image-deps
	@rc=0; tests/image/test-boot.sh || rc=1; \
		sh tests/netns/test-guests-image.sh || rc=1; exit $$rc

test-image-guest: $(IMAGE_RAW) $(BUILD)/nestrouterctl $(BUILD)/nestrouter-virt | deps image-deps
	@sh tests/netns/test-guests-image.sh

# keeps the Debian package cache (build/image/cache)
image-clean:
	rm -rf $(IMAGE_OUT)/run $(IMAGE_OUT)/test $(IMAGE_OUT)/nestrouter.* \
		$(IMAGE_OUT)/build-info.txt $(IMAGE_OUT)/b
