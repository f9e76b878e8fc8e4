# The Debian package (included by the Makefile; docs/image.md "The Debian package"):
#   make deb        build/nestrouter_VERSION_ARCH.deb (image/deb/build.sh; VERSION: version.sh)
#   make test-deb   the package and man page tests (tests/deb/)
# The image installs this package (image/overlay.sh).
DEB_ARCH   := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB        := $(BUILD)/nestrouter_$(NR_VERSION)_$(DEB_ARCH).deb
DEB_INPUTS := $(shell find daemon docs configs image/deb -type f 2>/dev/null) Makefile README.md
# The tools (debhelper, dpkg-dev, pandoc, lintian, mmdebstrap, ...) are in tests/deps.sh's list.

.PHONY: deb deb-name test-deb
deb: $(DEB)

deb-name:
	@echo $(DEB)

$(DEB): $(DEB_INPUTS) | deps
	@image/deb/build.sh $(NR_VERSION) $(BUILD)

test-deb: | deps
	@sh tests/deb/test-man.sh
	@sh tests/deb/test-deb.sh
