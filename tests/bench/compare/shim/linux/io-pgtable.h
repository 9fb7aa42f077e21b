/* The kernel's own header, read from the source tree meson found. */
#include LPAE_KERNEL_IO_PGTABLE_H
