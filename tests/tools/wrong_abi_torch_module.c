/* A libnormcheck_torch.so from another build: both entry points, another ABI tag. The registry must
 * refuse it before any C++ object crosses (tests/tools/torch_module_test.cc). */
#define EXPORT __attribute__((visibility("default")))

EXPORT const char* normcheck_torch_module_abi(void* layout) {
  (void)layout;
  return "normcheck-torch-module/0 another build";
}

EXPORT void normcheck_torch_implementations(void* out) { (void)out; }
