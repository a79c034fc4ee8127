#pragma once
/// The worker's side of the ABI: loading and checking a plugin library, and turning a problem and
/// the case's shared region into the nc_problem / nc_tensors the plugin's functions take.
#include <array>
#include <cstdint>
#include <string>

#include "impls/plugin/normcheck_plugin.h"
#include "impls/plugin/wire.h"
#include "normcheck/problem.h"
#include "normcheck/status.h"
#include "normcheck/tensor.h"

namespace normcheck::impls::plugin_worker {

/// dlopens path, finds the entry symbol, calls it and checks the table (ABI version, name,
/// required function pointers). Errors are one line each, without the "cannot load plugin: "
/// prefix (the host adds it).
Expected<const nc_plugin_v1*> load_plugin_table(const std::string& path);

/// The ABI's view of a problem; descriptor points into `line`, which must outlive the result.
nc_problem to_nc_problem(const Problem& p, const std::string& line, std::int64_t num_batches_tracked);

/// The DLTensors of one case, pointing into a mapped region.
struct CaseTensors {
  std::array<TensorView, plugin_wire::kNumSlots> views;
  std::array<DLTensor, plugin_wire::kNumSlots> dl{};
  std::array<bool, plugin_wire::kNumSlots> present{};
  nc_tensors tensors{};
};
/// Builds them from the slot layouts; checks that every tensor lies inside the region's size bytes.
Status bind_case_tensors(const std::array<plugin_wire::SlotLayout, plugin_wire::kNumSlots>& slots, char* base,
                         std::uint64_t size, CaseTensors& out);

}  // namespace normcheck::impls::plugin_worker
