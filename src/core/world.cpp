// The world of processes (include/lmlab/core/world.h).
#include "lmlab/core/world.h"

#include <cerrno>
#include <cstdlib>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "lmlab/core/error.h"

namespace lmlab {
namespace {

// The integer value of environment variable `name` in [lo, hi], or `fallback` when unset.
int env_int(const char* name, int fallback, long lo, long hi) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  LMLAB_CHECK(*text != '\0' && *end == '\0' && errno == 0 && v >= lo && v <= hi, UsageError, name, "=", text,
              " is not an integer from ", lo, " to ", hi, "; unset it for a single process, or let torchrun or srun "
              "set it");
  return static_cast<int>(v);
}

}  // namespace

std::string World::describe() const {
  if (!distributed()) return "one process";
  return "rank " + std::to_string(rank) + " of " + std::to_string(size) + " (local rank " +
         std::to_string(local_rank) + "), store " + master_addr + ":" + std::to_string(master_port) +
         (agent_store ? " served by torchrun's agent" : " served by rank 0");
}

World world_from_env() {
  World w;
  w.size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  if (w.size == 1) return w;
  LMLAB_CHECK(std::getenv("RANK") != nullptr && std::getenv("MASTER_ADDR") != nullptr &&
                  std::getenv("MASTER_PORT") != nullptr,
              UsageError, "WORLD_SIZE=", w.size, " needs RANK, MASTER_ADDR and MASTER_PORT as well; start lmlab with "
              "torchrun (scripts/lmlab-torchrun) or srun, which set them all");
  w.rank = env_int("RANK", 0, 0, w.size - 1);
  w.local_rank = env_int("LOCAL_RANK", 0, 0, w.size - 1);
  w.local_size = env_int("LOCAL_WORLD_SIZE", 1, 1, w.size);
  w.master_addr = std::getenv("MASTER_ADDR");
  LMLAB_CHECK(!w.master_addr.empty(), UsageError, "MASTER_ADDR is empty; it names the host of rank 0");
  w.master_port = env_int("MASTER_PORT", 0, 1, 65535);
  const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  w.agent_store = agent != nullptr && std::string(agent) == "True";
  w.restart = env_int("TORCHELASTIC_RESTART_COUNT", 0, 0, 1 << 30);
  return w;
}

c10::intrusive_ptr<c10d::Store> connect_store(const World& world, std::chrono::milliseconds timeout) {
  LMLAB_ASSERT(world.distributed(), "connect_store needs a world of several ranks");
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(world.master_port);
  o.isServer = world.rank == 0 && !world.agent_store;
  o.numWorkers = world.agent_store ? c10::nullopt : c10::optional<std::size_t>(world.size);
  o.timeout = timeout;
  try {
    return c10::make_intrusive<c10d::TCPStore>(world.master_addr, o);
  } catch (const std::exception& e) {
    throw DataError("cannot reach the store of rank 0 at " + world.master_addr + ":" +
                    std::to_string(world.master_port) + " (" + e.what() + "); check MASTER_ADDR and MASTER_PORT "
                    "and that rank 0 runs");
  }
}

void set_text(c10d::Store& store, const std::string& key, const std::string& text) {
  store.set(key, std::vector<uint8_t>(text.begin(), text.end()));
}

std::string get_text(c10d::Store& store, const std::string& key) {
  const std::vector<uint8_t> bytes = store.get(key);
  return std::string(bytes.begin(), bytes.end());
}

namespace {

class StorePointShare : public PointShare {
 public:
  StorePointShare(c10::intrusive_ptr<c10d::Store> store, std::string prefix, int rank)
      : store_(std::move(store)), prefix_(std::move(prefix)), rank_(rank) {}

  bool claim(const std::string& key) override { return store_->add(prefix_ + "claim/" + key, 1) == 1; }

  std::optional<std::string> finished(const std::string& key) override {
    if (store_->check({prefix_ + "failed/" + key}))
      throw DataError("sweep point " + key + " failed on " + get_text(*store_, prefix_ + "failed/" + key));
    if (!store_->check({prefix_ + "point/" + key})) return std::nullopt;
    return get_text(*store_, prefix_ + "point/" + key);
  }

  void publish(const std::string& key, const std::string& line) override { set_text(*store_, prefix_ + "point/" + key, line); }

  void publish_failure(const std::string& key, const std::string& error) override {
    set_text(*store_, prefix_ + "failed/" + key, "rank " + std::to_string(rank_) + ": " + error);
  }

 private:
  c10::intrusive_ptr<c10d::Store> store_;
  std::string prefix_;
  int rank_;
};

}  // namespace

std::unique_ptr<PointShare> store_point_share(c10::intrusive_ptr<c10d::Store> store, std::string prefix, int rank) {
  return std::make_unique<StorePointShare>(std::move(store), std::move(prefix), rank);
}

}  // namespace lmlab
