/* A table without a forward function. */
#include "bad_plugin.h"

NC_BAD_PLUGIN("bad-null-forward", claims_everything, NULL)
