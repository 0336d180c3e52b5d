# strongSwan versions the plugins are built and tested against, and where
# each one's trees live. Sourced by the scripts and the test labs.
#
#   SW_VERSIONS   every supported version (upstream), oldest first
#   SW_VERSION    the version a script works on (STRONGSWAN_VERSION, or
#                 Debian 12's 5.9.8 by default)
#   SW_DIR        build/sw-$SW_VERSION, holding:
#     SW_SRC        Debian's source package, unpacked with its patches,
#                   configured and built in place
#     SW_PREFIX     the installation the labs run (charon, swanctl, plugins)
#     SW_OBJ        our plugins, configured against SW_SRC (out of tree)
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

SW_VERSIONS="5.9.8 6.0.1 6.1.0"
SW_VERSION=${STRONGSWAN_VERSION:-5.9.8}
SW_TOP=${SW_TOP:?set SW_TOP to the top of the repository}
SW_BUILD=${BUILDDIR:-$SW_TOP/build}
SW_DIR=$SW_BUILD/sw-$SW_VERSION
SW_SRC=$SW_DIR/strongswan-$SW_VERSION
SW_PREFIX=$SW_DIR/install
SW_OBJ=$SW_DIR/plugins

# sw_suites VERSION: Debian suites whose source package has VERSION, tried
# in turn (a pool file may answer 404 from one suite and arrive from another)
sw_suites()
{
	case $1 in
		5.9.8) echo "bookworm-security bookworm" ;;	# Debian 12
		6.0.1) echo "trixie-security trixie" ;;		# Debian 13
		6.1.0) echo "sid" ;;						# Debian unstable
		*) return 1 ;;
	esac
}
