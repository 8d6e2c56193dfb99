#include "core/fd.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "core/entropy.h"
#include "test_support.h"

namespace core = postern::core;
using core::Errc;

namespace {

std::atomic<int> g_signals{0};
extern "C" void count_signal(int) {
  g_signals.fetch_add(1);
}

// True once thread `tid` is blocked in read(2) (/proc/<pid>/task/<tid>/syscall names the
// call it sleeps in), so a signal sent now interrupts that read. False where /proc does not
// say (qemu-user, no CONFIG_HAVE_ARCH_TRACEHOOK): the test then still checks the data.
bool wait_blocked_in_read_until(pid_t tid, std::chrono::steady_clock::time_point deadline) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/syscall";
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(path);
    std::string first;
    if (!(in >> first)) return false;  // no such file: the thread has exited, or no /proc
    if (first == std::to_string(SYS_read)) return true;
    if (first != "running" && first.find_first_not_of("0123456789-") != std::string::npos) {
      return false;  // a format this test does not know
    }
    std::this_thread::yield();
  }
  return false;
}

// Whether /proc names this architecture's syscalls at all: under qemu-user the file
// exists but holds the host's numbers, so a thread known to sit in read(2) is probed once
// (3 s, not scaled: qemu would otherwise cost the scaled wait twice, 100 s).
bool proc_reports_reads() {
  static const bool reports = [] {
    int fds[2];
    if (::pipe(fds) != 0) return false;
    core::Fd reader(fds[0]), writer(fds[1]);
    std::atomic<pid_t> tid{0};
    std::thread thread([&] {
      tid = static_cast<pid_t>(::syscall(SYS_gettid));
      char byte;
      (void)::read(reader.get(), &byte, 1);
    });
    while (tid == 0) std::this_thread::yield();
    const bool seen =
        wait_blocked_in_read_until(tid, std::chrono::steady_clock::now() + std::chrono::seconds(3));
    (void)core::write_all(writer.get(), "x", "probe");
    thread.join();
    return seen;
  }();
  return reports;
}

bool wait_blocked_in_read(pid_t tid) {
  if (!proc_reports_reads()) return false;
  return wait_blocked_in_read_until(
      tid,
      std::chrono::steady_clock::now() + postern::test::scaled(std::chrono::milliseconds(5000)));
}

}  // namespace

TEST_CASE("write_all and read_to_end carry a file's bytes whole") {
  postern::test::TempDir dir;
  const std::string path = dir.path() + "/f";
  std::string data(100000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  {
    auto fd = core::open_fd(path, O_WRONLY | O_CREAT | O_EXCL, "create", 0600);
    REQUIRE(fd);
    CHECK((::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC) != 0);
    REQUIRE(core::write_all(fd->get(), data, "write"));
    REQUIRE(core::sync_fd(fd->get(), "fsync"));
    REQUIRE(fd->close("close"));
    CHECK_FALSE(fd->valid());
  }
  REQUIRE(core::sync_dir(dir.path(), "fsync dir"));
  auto fd = core::open_fd(path, O_RDONLY, "open");
  REQUIRE(fd);
  auto all = core::read_to_end(fd->get(), data.size(), "read");
  REQUIRE(all);
  CHECK(*all == data);

  std::string piece(10, '\0');
  auto got = core::pread_full(fd->get(), piece.data(), piece.size(), 70, "pread");
  REQUIRE(got);
  CHECK(*got == 10);
  CHECK(piece == data.substr(70, 10));
  got = core::pread_full(fd->get(), piece.data(), piece.size(), data.size() - 4, "pread");
  REQUIRE(got);
  CHECK(*got == 4);  // short only at end of file
}

TEST_CASE("pwrite_all writes at its offset without moving the file offset") {
  postern::test::TempDir dir;
  auto fd = core::open_fd(dir.path() + "/f", O_RDWR | O_CREAT, "create", 0600);
  REQUIRE(fd);
  REQUIRE(core::write_all(fd->get(), "abcdef", "write"));
  REQUIRE(core::pwrite_all(fd->get(), "XY", 2, "pwrite"));
  REQUIRE(::lseek(fd->get(), 0, SEEK_SET) == 0);
  auto all = core::read_to_end(fd->get(), 100, "read");
  REQUIRE(all);
  CHECK(*all == "abXYef");
}

TEST_CASE("read_to_end refuses a file larger than its bound") {
  postern::test::TempDir dir;
  auto fd = core::open_fd(dir.path() + "/f", O_RDWR | O_CREAT, "create", 0600);
  REQUIRE(fd);
  REQUIRE(core::write_all(fd->get(), std::string(5000, 'x'), "write"));
  REQUIRE(::lseek(fd->get(), 0, SEEK_SET) == 0);
  auto all = core::read_to_end(fd->get(), 4999, "read big");
  REQUIRE_FALSE(all);
  CHECK(all.error().code == Errc::invalid);
  CHECK(std::string(all.error().where) == "read big");
}

TEST_CASE("errors name the operation and classify errno") {
  postern::test::TempDir dir;
  auto missing = core::open_fd(dir.path() + "/none", O_RDONLY, "open none");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
  CHECK(missing.error().sys == ENOENT);
  CHECK(std::string(missing.error().where) == "open none");

  auto full = core::open_fd("/dev/full", O_WRONLY, "open full");
  REQUIRE(full);
  auto w = core::write_all(full->get(), "x", "write full");
  REQUIRE_FALSE(w);
  CHECK(w.error().code == Errc::full);  // ENOSPC: retry later, not an I/O fault
  CHECK(w.error().sys == ENOSPC);

  char byte = 0;  // a real buffer: qemu-user checks it before the fd and would say EFAULT
  auto r = core::read_full(-1, &byte, 1, "read bad");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::io);
  CHECK(r.error().sys == EBADF);
}

TEST_CASE("an Fd closes what it owns once, and moves") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  {
    core::Fd reader(fds[0]);
    core::Fd moved(std::move(reader));
    CHECK_FALSE(reader.valid());
    CHECK(moved.get() == fds[0]);
    core::Fd other;
    other = std::move(moved);
    CHECK(other.get() == fds[0]);
  }
  CHECK(::fcntl(fds[0], F_GETFD) == -1);
  CHECK(errno == EBADF);
  core::Fd writer(fds[1]);
  const int raw = writer.release();
  CHECK_FALSE(writer.valid());
  CHECK(::fcntl(raw, F_GETFD) != -1);
  ::close(raw);
}

TEST_CASE("a signal during a blocking read is retried, and short reads are joined") {
  struct sigaction action {};
  action.sa_handler = count_signal;  // no SA_RESTART: read(2) fails with EINTR
  struct sigaction previous {};
  REQUIRE(::sigaction(SIGUSR1, &action, &previous) == 0);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  core::Fd reader(fds[0]), writer(fds[1]);

  std::atomic<pid_t> tid{0};
  std::string buf(8, '\0');
  core::Result<std::size_t> got = std::size_t{0};
  std::thread thread([&] {
    tid = static_cast<pid_t>(::syscall(SYS_gettid));
    got = core::read_full(reader.get(), buf.data(), buf.size(), "read pipe");
  });
  while (tid == 0) std::this_thread::yield();
  const bool blocked = wait_blocked_in_read(tid);
  const int before = g_signals.load();
  ::pthread_kill(thread.native_handle(), SIGUSR1);
  while (g_signals.load() == before) std::this_thread::yield();
  if (blocked) CHECK(wait_blocked_in_read(tid));  // back in read(2) after EINTR
  REQUIRE(core::write_all(writer.get(), "abc", "write"));
  REQUIRE(core::write_all(writer.get(), "defgh", "write"));
  thread.join();
  REQUIRE(got);
  CHECK(*got == 8);
  CHECK(buf == "abcdefgh");
  ::sigaction(SIGUSR1, &previous, nullptr);
}

TEST_CASE("write_all finishes a write larger than a pipe holds") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  core::Fd reader(fds[0]), writer(fds[1]);
  const std::string data(1 << 20, 'm');  // 16 pipe buffers: write(2) returns short
  std::string received;
  std::thread drain([&] {
    auto all = core::read_to_end(reader.get(), data.size(), "drain");
    if (all) received = std::move(*all);
  });
  REQUIRE(core::write_all(writer.get(), data, "write pipe"));
  REQUIRE(writer.close("close"));
  drain.join();
  CHECK(received == data);
}

TEST_CASE("fill_random fills the whole buffer") {
  unsigned char a[64] = {}, b[64] = {};
  REQUIRE(core::fill_random(a, sizeof a, "getrandom"));
  REQUIRE(core::fill_random(b, sizeof b, "getrandom"));
  CHECK(std::string(reinterpret_cast<char*>(a), sizeof a) !=
        std::string(reinterpret_cast<char*>(b), sizeof b));
  CHECK(core::fill_random(a, 0, "getrandom"));
}
