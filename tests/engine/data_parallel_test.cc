// The pieces of data-parallel training that need no second process: how a batch is cut into
// rank slices, how many loss tokens a batch has, and the framing of rank 0's starting state.
// Two real ranks over Gloo: tests/cli/train_workers_cli_test.cc.
#include "engine/data_parallel.h"

#include <gtest/gtest.h>

namespace lathe::engine {
namespace {

TEST(DataParallel, RankSlicesCoverEveryRowOnceInOrder) {
  for (size_t rows : {1u, 2u, 7u, 8u, 9u}) {
    for (int world : {1, 2, 3, 4}) {
      size_t next = 0;
      for (int r = 0; r < world; ++r) {
        const auto slice = RankSlice(rows, r, world);
        EXPECT_EQ(slice.first, next) << rows << " rows, rank " << r << " of " << world;
        EXPECT_LE(slice.second - slice.first, rows / static_cast<size_t>(world) + 1);
        next = slice.second;
      }
      EXPECT_EQ(next, rows);
    }
  }
  EXPECT_EQ(RankSlice(2, 2, 3), (std::pair<size_t, size_t>{2, 2}));  // a short last batch: no rows
}

TEST(DataParallel, BatchTargetsCountsWhatTheLossCounts) {
  // The first token is never predicted; padding carries no target.
  std::vector<TrainingSequence> seqs(2);
  seqs[0].ids = {1, 2, 3, 4};
  seqs[0].target = {1, 0, 1, 1};
  seqs[1].ids = {1, 2};
  seqs[1].target = {0, 1};
  EXPECT_EQ(BatchTargets(seqs, {0, 1}), 3);
  EXPECT_EQ(BatchTargets(seqs, {1}), 1);
  EXPECT_EQ(BatchTargets(seqs, {}), 0);
}

TEST(DataParallel, PackedFieldsRoundTripAndCutInputIsCorruption) {
  const std::vector<std::string> fields = {"job", "", std::string("\0bytes\0", 7), "x"};
  const std::string packed = PackFields(fields);
  auto back = UnpackFields(packed, fields.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, fields);
  for (size_t cut : {size_t{0}, size_t{5}, packed.size() - 1})
    EXPECT_EQ(UnpackFields(packed.substr(0, cut), fields.size()).status().code(), Status::Code::kCorruption) << cut;
  // A length field claiming more than there is, not an allocation of that size.
  std::string huge(8, '\xff');
  EXPECT_EQ(UnpackFields(huge, 1).status().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace lathe::engine
