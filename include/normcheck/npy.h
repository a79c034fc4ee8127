#pragma once
/// NumPy .npy files (format versions 1.0, 2.0, 3.0), the exchange format every language reads.
/// Reading validates everything (magic, version, header dict, dtype, shape, fortran_order, file
/// size) and fails with a one-line message naming the problem; it never crashes on a bad file.
#include <string>

#include "normcheck/status.h"
#include "normcheck/tensor.h"

namespace normcheck {

/// Reads float64 ('<f8'), float32 ('<f4'), float16 ('<f2') and bfloat16 arrays, C order or Fortran
/// order (returned as a dense row-major Tensor either way). bfloat16 has no standard descr: we accept
/// 'bfloat16' (ml_dtypes' name, what write_npy writes) and '<V2' (what np.save writes for an
/// ml_dtypes bfloat16 array: a 2-byte opaque type, read as bfloat16). Big-endian data is refused.
Expected<Tensor> read_npy(const std::string& path);
/// Writes v (any strides) as a C-order .npy file of its dtype, atomically (temp file + rename).
/// bfloat16 gets descr 'bfloat16': numpy loads it only once ml_dtypes is imported.
Status write_npy(const std::string& path, const TensorView& v);

}  // namespace normcheck
