#include "core/heap_reuse.h"

#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace lathe {
namespace {

// A 64 MiB block comes from the heap, not from its own mapping, and stays there once freed: the
// next block of that size needs no new pages from the kernel.
TEST(HeapReuse, FreedLargeBlocksStayInTheHeap) {
  ASSERT_TRUE(KeepFreedMemoryInHeap());
  constexpr size_t kBytes = size_t{64} << 20;
  void* p = std::malloc(kBytes);
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, kBytes);
  EXPECT_LT(mallinfo2().hblkhd, kBytes) << "a 64 MiB block was mmap()ed on its own";
  const size_t arena_in_use = mallinfo2().arena;
  EXPECT_GE(arena_in_use, kBytes);
  std::free(p);
  EXPECT_EQ(mallinfo2().arena, arena_in_use) << "the freed block was trimmed from the heap";
  EXPECT_GE(mallinfo2().fordblks, kBytes);
}

}  // namespace
}  // namespace lathe
#endif
