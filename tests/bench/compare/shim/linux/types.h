#include "lpae_shim.h"
