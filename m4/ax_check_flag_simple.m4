dnl AX_CHECK_FLAG_SIMPLE(FLAG): append FLAG to WARN_CFLAGS when $CC accepts it.
dnl (Small local macro so the build needs no autoconf-archive.)
AC_DEFUN([AX_CHECK_FLAG_SIMPLE], [
  AC_MSG_CHECKING([whether $CC accepts $1])
  ax_save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS $1 -Werror"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
    [WARN_CFLAGS="$WARN_CFLAGS $1"; AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no])])
  CFLAGS=$ax_save_CFLAGS
])
