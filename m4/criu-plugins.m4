# SPDX-License-Identifier: LGPL-2.1-or-later
#
# CRIU_PLUGIN(NAME, DESCRIPTION)
#
# Declares one plugin. Whether it is built follows --enable-plugins=LIST
# (comma separated; "all", the default, builds every plugin; "none" builds
# none). Defines the automake conditional BUILD_PLUGIN_<NAME> (dashes become
# underscores) and appends NAME to CRIU_BUILT_PLUGINS.
AC_DEFUN([CRIU_PLUGIN], [
	m4_pushdef([cp_cond], m4_translit([$1], [-a-z], [_A-Z]))
	cp_build_it=no
	case ",$criu_enable_plugins," in
	*,all,*|*,$1,*) cp_build_it=yes ;;
	esac
	AS_IF([test "x$cp_build_it" = xyes], [
		CRIU_BUILT_PLUGINS="$CRIU_BUILT_PLUGINS $1"
		criu_known_plugins_found="$criu_known_plugins_found,$1"
	])
	criu_known_plugins="$criu_known_plugins,$1"
	AM_CONDITIONAL([BUILD_PLUGIN_]cp_cond, [test "x$cp_build_it" = xyes])
	AC_MSG_CHECKING([whether to build plugin $1 ($2)])
	AC_MSG_RESULT([$cp_build_it])
	m4_popdef([cp_cond])
])

# CRIU_PLUGINS_CHECK_LIST: fail on names in --enable-plugins that no
# CRIU_PLUGIN declared, so a typo does not silently drop a plugin.
AC_DEFUN([CRIU_PLUGINS_CHECK_LIST], [
	for cp_name in $(echo "$criu_enable_plugins" | tr ',' ' '); do
		case "$cp_name" in all|none) continue ;; esac
		case "$criu_known_plugins," in
		*,$cp_name,*) ;;
		*) cp_known=$(echo "$criu_known_plugins" | sed 's/^,//; s/,/ /g')
		   AC_MSG_ERROR([unknown plugin '$cp_name' in --enable-plugins; known plugins: $cp_known]) ;;
		esac
	done
	AC_SUBST([CRIU_BUILT_PLUGINS])
])
