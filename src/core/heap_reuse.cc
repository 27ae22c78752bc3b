#include "core/heap_reuse.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace lathe {

bool KeepFreedMemoryInHeap() {
#if defined(__GLIBC__)
  // Setting either disables glibc's own sliding mmap threshold; both are needed (the mmap
  // threshold alone still trims the freed top; the trim threshold alone mmaps every block
  // over 128 KiB and made a step 2x slower).
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(kHeapReuseBytes)) == 1 &&
         mallopt(M_TRIM_THRESHOLD, static_cast<int>(kHeapReuseBytes)) == 1;
#else
  return false;
#endif
}

}  // namespace lathe
