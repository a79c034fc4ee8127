#pragma once
/// What the mutants' tests include: the shared harness (tests/impls/harness.h: one call into
/// poisoned outputs, a bitwise fingerprint of every output), the mutants and the reference.
#include "impls/mutants/mutants.h"
#include "impls/mutants/witness.h"
#include "impls/registry.h"
#include "normcheck/problem.h"
#include "properties/comparator.h"
#include "reference/reference.h"
#include "tests/impls/harness.h"
