// core/fmt_runtime.cpp — fmt's formatting engine, compiled once for all of nnc.
//
// fmt used header-only (FMT_HEADER_ONLY) compiles its engine into every translation unit: about
// three seconds each at -O2, most of a clean build. Debian ships fmt as headers plus a shared
// library; nnc links no shared libfmt (the CLI must run where only the C++ runtime exists), so it
// builds the engine here, from fmt's own implementation header, with the explicit instantiations
// that fmt's headers declare `extern` outside header-only mode.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;
template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);
}  // namespace detail
FMT_END_NAMESPACE
