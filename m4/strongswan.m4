# SS_WITH_STRONGSWAN_SOURCE
# -------------------------
# --with-strongswan-source=DIR names a configured (and built) strongSwan
# source tree. Plugins are compiled with that tree's config.h and headers so
# that the ABI matches the charon that loads them, and installed into that
# tree's plugin directory (override with --with-plugindir).
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
AC_DEFUN([SS_WITH_STRONGSWAN_SOURCE],
[
	AC_ARG_WITH([strongswan-source],
		[AS_HELP_STRING([--with-strongswan-source=DIR],
			[configured strongSwan source tree to build against (required)])],
		[ss_src="$withval"], [ss_src=""])
	AS_IF([test -z "$ss_src" -o "x$ss_src" = xyes -o "x$ss_src" = xno],
		[AC_MSG_ERROR([--with-strongswan-source=DIR is required: a configured strongSwan tree])])
	ss_src=$(cd "$ss_src" 2>/dev/null && pwd) ||
		AC_MSG_ERROR([--with-strongswan-source: no such directory])
	AC_MSG_CHECKING([for a configured strongSwan tree in $ss_src])
	AS_IF([test -f "$ss_src/config.h" -a -f "$ss_src/src/libcharon/daemon.h" -a -f "$ss_src/Makefile"],
		[AC_MSG_RESULT([yes])],
		[AC_MSG_RESULT([no])
		 AC_MSG_ERROR([$ss_src has no config.h, src/libcharon/daemon.h or Makefile: run strongSwan's configure there first])])
	ss_version=$(sed -n 's/^PACKAGE_VERSION = //p' "$ss_src/Makefile")
	AC_MSG_NOTICE([building against strongSwan $ss_version])

	dnl expand the tree's installation directories
	ss_var() {
		ss_v=$(sed -n "s/^$[]1 = //p" "$ss_src/Makefile")
		ss_v=$(echo "$ss_v" | sed -e "s|\${exec_prefix}|$ss_exec_prefix|g" \
			-e "s|\${prefix}|$ss_prefix|g" -e "s|\${libdir}|$ss_libdir|g")
		echo "$ss_v"
	}
	ss_prefix=$(sed -n 's/^prefix = //p' "$ss_src/Makefile")
	ss_exec_prefix=$(ss_var exec_prefix)
	ss_libdir=$(ss_var libdir)

	AC_ARG_WITH([plugindir],
		[AS_HELP_STRING([--with-plugindir=DIR],
			[where to install the plugins (default: the strongSwan tree's plugindir)])],
		[ss_plugindir="$withval"],
		[ss_plugindir=$(ss_var plugindir)])
	AS_IF([test -z "$ss_plugindir"],
		[AC_MSG_ERROR([could not determine the plugin directory, use --with-plugindir])])
	ss_sysconfdir=$(ss_var sysconfdir)
	ss_ipsecdir=$(ss_var ipsecdir)
	AC_ARG_WITH([strongswan-confdir],
		[AS_HELP_STRING([--with-strongswan-confdir=DIR],
			[where strongswan.d/ lives (default: the strongSwan tree's sysconfdir)])],
		[ss_confdir="$withval"], [ss_confdir="$ss_sysconfdir"])

	STRONGSWAN_SOURCE="$ss_src"
	STRONGSWAN_VERSION="$ss_version"
	STRONGSWAN_CPPFLAGS="-D_GNU_SOURCE= -include $ss_src/config.h -I$ss_src/src/libstrongswan -I$ss_src/src/libcharon"

	dnl what differs between the versions (plugins/common/sw_compat.h)
	ss_save_CPPFLAGS=$CPPFLAGS
	CPPFLAGS="$CPPFLAGS $STRONGSWAN_CPPFLAGS"
	AC_MSG_CHECKING([for child_cfg_t.select_traffic_selectors (strongSwan 6.0.2+)])
	AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[#include <library.h>
#include <config/child_cfg.h>]],
		[[child_cfg_t *cfg = NULL; (void)cfg->select_traffic_selectors;]])],
		[AC_MSG_RESULT([yes])
		 STRONGSWAN_CPPFLAGS="$STRONGSWAN_CPPFLAGS -DHAVE_SW_SELECT_TRAFFIC_SELECTORS"],
		[AC_MSG_RESULT([no])])
	CPPFLAGS=$ss_save_CPPFLAGS
	STRONGSWAN_LIBSTRONGSWAN="$ss_src/src/libstrongswan/libstrongswan.la"
	AC_SUBST([STRONGSWAN_SOURCE])
	AC_SUBST([STRONGSWAN_VERSION])
	AC_SUBST([STRONGSWAN_CPPFLAGS])
	AC_SUBST([STRONGSWAN_LIBSTRONGSWAN])
	AC_SUBST([plugindir], [$ss_plugindir])
	AC_SUBST([STRONGSWAN_IPSECDIR], [$ss_ipsecdir])
	AC_SUBST([STRONGSWAN_PREFIX], [$ss_prefix])
	AC_SUBST([charonconfdir], [$ss_confdir/strongswan.d/charon])
])
