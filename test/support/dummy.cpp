// Keeps the support library non-empty before any helper is added.
namespace eci::test {
void support_library_anchor() {}
}  // namespace eci::test
