/* normcheck plugin ABI, version 1: what a third-party normalization library implements so that
 * normcheck can gate it. Plain C99, also valid C++. Full documentation: docs/plugin-abi.md.
 *
 * A plugin is a shared library exporting ONE symbol, normcheck_plugin_entry, that returns a
 * static table (nc_plugin_v1). normcheck never loads the library into its own process: a worker
 * process (normcheck-worker) dlopens it, calls it one request at a time, and is killed and
 * restarted when the plugin crashes, hangs or exceeds its memory limit.
 *
 * Minimal plugin:
 *
 *   #include "normcheck_plugin.h"
 *   static int my_supports(const nc_problem* p, char* reason, size_t len) { ... return 1; }
 *   static int my_forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) { ... return NC_OK; }
 *   static const nc_plugin_v1 kTable = {NORMCHECK_PLUGIN_ABI_VERSION, 0, "my-norms", "My norms 1.2",
 *                                       my_supports, my_forward, NULL};
 *   NC_PLUGIN_EXPORT const nc_plugin_v1* normcheck_plugin_entry(void) { return &kTable; }
 *
 * Dependency: DLPack's header, <dlpack/dlpack.h> (tensors are DLTensors). `cmake --install` puts
 * this file in <prefix>/include/normcheck/ but does not ship DLPack: on Debian and Ubuntu install
 * libdlpack-dev (its CMake package: find_package(dlpack), target dlpack::dlpack); elsewhere put the
 * include/ directory of a DLPack checkout (https://github.com/dmlc/dlpack, 0.6 or later: normcheck is
 * built and tested with Debian 12's 0.6) on the include path. examples/plugin/CMakeLists.txt
 * builds a plugin against an install tree this way.
 */
#ifndef NORMCHECK_PLUGIN_H_
#define NORMCHECK_PLUGIN_H_

#include <dlpack/dlpack.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the table layout below. The worker accepts exactly the versions it knows. */
#define NORMCHECK_PLUGIN_ABI_VERSION 1
/* The one symbol the worker looks up (dlsym). */
#define NORMCHECK_PLUGIN_ENTRY_SYMBOL "normcheck_plugin_entry"
/* The largest rank of x (normcheck's problems have rank <= 8). */
#define NC_MAX_NDIM 8

#if defined(_WIN32)
#define NC_PLUGIN_EXPORT __declspec(dllexport)
#else
#define NC_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Enumerations: the values are part of the ABI (append only). */
typedef enum nc_op {
  NC_OP_BATCH_NORM = 0,
  NC_OP_LAYER_NORM = 1,
  NC_OP_INSTANCE_NORM = 2,
  NC_OP_GROUP_NORM = 3,
  NC_OP_RMS_NORM = 4,
  NC_OP_LAYER_NORM_2D = 5
} nc_op;

typedef enum nc_dtype {
  NC_DTYPE_FLOAT64 = 0,
  NC_DTYPE_FLOAT32 = 1,
  NC_DTYPE_FLOAT16 = 2,
  NC_DTYPE_BFLOAT16 = 3
} nc_dtype;
/* Memory formats of x, dy, y, dx (strides say the same; a plugin may read strides and ignore this):
 * contiguous: row-major; channels_last: dim 1 innermost (rank >= 3); permuted: dim 0 innermost
 * (dense, dims in reverse memory order); strided: x[1:, 1:, ...] of a buffer one larger per dim. */
typedef enum nc_layout {
  NC_LAYOUT_CONTIGUOUS = 0,
  NC_LAYOUT_CHANNELS_LAST = 1,
  NC_LAYOUT_PERMUTED = 2,
  NC_LAYOUT_STRIDED = 3
} nc_layout;
typedef enum nc_mode { NC_MODE_TRAIN = 0, NC_MODE_EVAL = 1 } nc_mode;
typedef enum nc_direction { NC_DIRECTION_FORWARD = 0, NC_DIRECTION_BACKWARD = 1 } nc_direction;
typedef enum nc_device { NC_DEVICE_CPU = 0, NC_DEVICE_CUDA = 1 } nc_device;
typedef enum nc_profile { NC_PROFILE_PYTORCH = 0, NC_PROFILE_KERAS = 1, NC_PROFILE_ONNX = 2 } nc_profile;

/* Return codes of forward/backward. Any other non-zero value is an internal error of the plugin. */
typedef enum nc_status {
  NC_OK = 0,
  /* The framework's own refusal of this input (e.g. PyTorch's "Expected more than 1 value per
   * channel when training"): normcheck compares the message with the error the profile requires. */
  NC_ERROR_INPUT = 1,
  /* The plugin cannot do this problem after all (supports() should have said so). */
  NC_ERROR_UNSUPPORTED = 2,
  /* Anything else that went wrong inside the plugin (out of memory, a failed library call). */
  NC_ERROR_INTERNAL = 3
} nc_status;

/* Flags of nc_plugin_v1.flags. */
#define NC_PLUGIN_SAVES_STATS 1u /* forward writes mean / rstd when they are passed */

/* The numbers that go with the op. Read-only except num_batches_tracked (forward only). */
typedef struct nc_params {
  double eps;                  /* the descriptor's eps as a double (eps=None resolved to the dtype's
                                  epsilon), NOT rounded as the profile's framework holds it: round it
                                  as your framework does (docs/semantics.md; onnx: a float32) */
  int32_t eps_is_none;         /* 1: the descriptor said eps=none (rms_norm's default) */
  int32_t has_momentum;        /* 0: momentum=None, a cumulative moving average (pytorch profile) */
  double momentum;             /* the descriptor's momentum as a double when has_momentum, else 0;
                                  not rounded, as eps */
  int64_t num_groups;          /* group_norm: G (C % G == 0); 1 for the other ops */
  int32_t normalized_ndim;     /* layer_norm / rms_norm: how many trailing dims are normalized; else 0 */
  int32_t affine;              /* 1: weight (gamma) is applied */
  int32_t bias;                /* 1: bias (beta) is added, also without a weight (pytorch, keras) */
  int32_t track_running_stats; /* batch_norm / instance_norm: running buffers are passed */
  int32_t training;            /* 1 when mode == NC_MODE_TRAIN */
  int32_t profile;             /* nc_profile, same as nc_problem.profile */
  int64_t num_batches_tracked; /* in/out: the counter before forward; forward stores the new value */
} nc_params;

/* One normalization problem: everything supports() needs to decide. */
typedef struct nc_problem {
  int32_t op;                 /* nc_op */
  int32_t dtype;              /* nc_dtype: x, y, weight, bias, running stats, dy, dx */
  int32_t layout;             /* nc_layout of x, dy, y and dx */
  int32_t mode;               /* nc_mode */
  int32_t direction;          /* nc_direction */
  int32_t device;             /* nc_device the tensors live on (always NC_DEVICE_CPU in version 1) */
  int32_t profile;            /* nc_profile: whose conventions (momentum, running variance, errors) apply */
  int32_t ndim;               /* rank of x, 1..NC_MAX_NDIM */
  int64_t shape[NC_MAX_NDIM]; /* logical shape of x; entries past ndim are 0 */
  nc_params params;
  const char* descriptor; /* normcheck's one-line descriptor of the problem (for messages, logs) */
} nc_problem;

/* The tensors of one call. NULL means "not part of this problem" (or not requested). Every
 * DLTensor is on kDLCPU, has lanes 1, non-NULL strides (in elements), byte_offset 0, and is
 * valid only during the call. */
typedef struct nc_tensors {
  const DLTensor* x;           /* problem.shape, in problem.layout */
  const DLTensor* weight;      /* affine: (C), or normalized_shape for layer_norm / rms_norm */
  const DLTensor* bias;        /* bias (with or without affine): weight's shape */
  DLTensor* running_mean;      /* in/out, (C): track_running_stats (batch_norm, instance_norm) */
  DLTensor* running_var;       /* in/out, (C) */
  const DLTensor* grad_output; /* backward: dy, problem.shape, in problem.layout */
  DLTensor* y;                 /* out: problem.shape, in problem.layout */
  DLTensor* mean;              /* out, (num_sets), float32 (float64 for float64 data); when requested */
  DLTensor* rstd;              /* out, (num_sets); when requested */
  DLTensor* dx;                /* backward out: problem.shape, in problem.layout */
  DLTensor* dweight;           /* backward out: weight's shape, when affine */
  DLTensor* dbias;             /* backward out: when bias */
} nc_tensors;

/* supports: 1 when forward (and backward, for direction=backward) will handle the problem,
 * 0 otherwise with a one-line reason written to reason (NUL-terminated, at most reason_len bytes). */
typedef int (*nc_supports_fn)(const nc_problem* problem, char* reason, size_t reason_len);
/* forward: writes y, mean/rstd when passed, updates running_mean/running_var and
 * problem->params.num_batches_tracked (the only field of *problem it may change). Returns an
 * nc_status; on error, a one-line message in message (NUL-terminated, at most message_len bytes). */
typedef int (*nc_forward_fn)(nc_problem* problem, const nc_tensors* tensors, char* message,
                             size_t message_len);
/* backward: called right after a successful forward on the same tensors (y, mean, rstd hold what
 * forward wrote); writes dx, dweight, dbias. Never updates running statistics. */
typedef int (*nc_backward_fn)(const nc_problem* problem, const nc_tensors* tensors, char* message,
                              size_t message_len);

/* The table normcheck_plugin_entry returns. It and its strings must stay valid while the library
 * is loaded (a static const object is the usual choice). */
typedef struct nc_plugin_v1 {
  uint32_t abi_version;    /* NORMCHECK_PLUGIN_ABI_VERSION: always the first field, in every version */
  uint32_t flags;          /* NC_PLUGIN_* flags */
  const char* name;        /* stable, unique, [A-Za-z0-9._-]{1,64}: the implementation's name in reports */
  const char* description; /* one line: what it is and which version */
  nc_supports_fn supports; /* required */
  nc_forward_fn forward;   /* required */
  nc_backward_fn backward; /* optional: NULL means forward only (backward problems are refused) */
} nc_plugin_v1;

typedef const nc_plugin_v1* (*nc_plugin_entry_fn)(void);

/* The symbol a plugin defines (declared here so the compiler checks its signature). */
NC_PLUGIN_EXPORT const nc_plugin_v1* normcheck_plugin_entry(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NORMCHECK_PLUGIN_H_ */
