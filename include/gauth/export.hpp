// gauth: export macro for the shared library's public symbols.
#ifndef GAUTH_EXPORT_HPP
#define GAUTH_EXPORT_HPP

#if defined(_WIN32)
#  if defined(GAUTH_BUILDING)
#    define GAUTH_EXPORT __declspec(dllexport)
#  else
#    define GAUTH_EXPORT
#  endif
#else
#  define GAUTH_EXPORT __attribute__((visibility("default")))
#endif

#endif  // GAUTH_EXPORT_HPP
