// `lathe doctor`: the machine's side — CPU features, the BLAS libtorch will use, threads, the
// port, the clock (doctor_checks.h).
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "cli/doctor_checks.h"
#include "core/cpu_features.h"

namespace lathe::cli {
namespace {

using Level = Finding::Level;

std::set<std::string> CpuFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::set<std::string> flags;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) flags.insert(w);
    break;  // every core reports the same
  }
  return flags;
}

// CPUs this process may run on (taskset, cgroup cpusets), and a cgroup v2 CPU quota if any.
int AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
}

double CgroupCpuQuota() {
  std::ifstream in("/sys/fs/cgroup/cpu.max");
  std::string quota, period;
  if (!(in >> quota >> period) || quota == "max") return 0;
  return std::atof(quota.c_str()) / std::max(1.0, std::atof(period.c_str()));
}

}  // namespace

const char* LevelName(Finding::Level level) {
  switch (level) {
    case Level::kOk: return "ok";
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
  }
  return "?";
}

std::vector<Finding> CheckCpuAndThreads() {
  std::vector<Finding> out;
#if defined(__x86_64__)
  const auto flags = CpuFlags();
  const bool avx2 = flags.count("avx2") && flags.count("fma");
  std::string cpu = "x86-64 with";
  for (const char* f : {"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_bf16", "amx_tile"})
    if (flags.count(f)) cpu += std::string(" ") + f;
  if (avx2) {
    out.push_back({Level::kOk, "cpu", cpu, ""});
  } else {
    out.push_back({Level::kWarning, "cpu", cpu + " (no AVX2/FMA)",
                   "libtorch and OpenBLAS fall back to SSE kernels: training and generation run several times slower. "
                   "Use a machine (or VM CPU model, e.g. `-cpu host`) that exposes AVX2 and FMA"});
  }
#else
  out.push_back({Level::kInfo, "cpu", "not x86-64: lathe is built and tested on x86-64 only", ""});
#endif
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int allowed = AllowedCpus();
  const double quota = CgroupCpuQuota();
  std::string what = std::to_string(cores) + " CPUs, " + std::to_string(allowed) + " allowed to this process";
  if (quota > 0) what += ", cgroup quota " + std::to_string(quota).substr(0, 4) + " CPUs";
  const char* lathe_threads = std::getenv("LATHE_THREADS");
  what += std::string("; torch threads = ") + (lathe_threads ? std::string("LATHE_THREADS=") + lathe_threads
                                                              : std::to_string(cores) + " (one per CPU)");
  const char* wait = std::getenv("OMP_WAIT_POLICY");
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  if (spin) what += std::string("; GOMP_SPINCOUNT=") + spin;
  if (wait && std::string(wait) != "PASSIVE" && std::string(wait) != "passive") {
    out.push_back({Level::kWarning, "threads", what + "; OMP_WAIT_POLICY=" + wait,
                   std::string("unset OMP_WAIT_POLICY (lathe's threads then spin ~0.1 ms, GOMP_SPINCOUNT=") +
                       kOpenMpSpinCount + "): threads that keep spinning take the cores from OpenBLAS and from "
                       "other requests (docs/engine.md)"});
  } else if (!lathe_threads && ((quota > 0 && quota + 0.5 < cores) || (allowed > 0 && static_cast<unsigned>(allowed) < cores))) {
    const int use = quota > 0 ? std::max(1, static_cast<int>(quota)) : allowed;
    out.push_back({Level::kWarning, "threads", what,
                   "this process may use fewer CPUs than the machine has; set LATHE_THREADS=" + std::to_string(use) +
                       " so torch does not run more threads than it gets"});
  } else {
    out.push_back({Level::kOk, "threads", what, ""});
  }
  return out;
}

std::vector<Finding> CheckBlas() {
  // libtorch calls the BLAS Debian's alternatives system points libblas.so.3 at.
  const std::string link = "/usr/lib/x86_64-linux-gnu/libblas.so.3";
  std::error_code ec;
  const std::string real = std::filesystem::canonical(link, ec).string();
  if (ec)
    return {{Level::kWarning, "blas", "no " + link + " (libtorch needs a BLAS)",
             "apt install libopenblas0-openmp (scripts/setup.sh installs it)"}};
  std::string what = "libblas.so.3 -> " + real;
  if (void* h = dlopen(real.c_str(), RTLD_LAZY | RTLD_LOCAL)) {
    using Fn = char* (*)();
    if (auto config = reinterpret_cast<Fn>(dlsym(h, "openblas_get_config"))) what += " (" + std::string(config());
    if (auto core = reinterpret_cast<Fn>(dlsym(h, "openblas_get_corename"))) what += ", kernels for " + std::string(core());
    if (what.back() != ')' && what.find('(') != std::string::npos) what += ")";
    dlclose(h);
  }
  if (real.find("openblas") == std::string::npos && real.find("blis") == std::string::npos &&
      real.find("mkl") == std::string::npos)
    return {{Level::kWarning, "blas", what + ": the reference BLAS (~3 GFLOP/s)",
             "apt install libopenblas0-openmp, or `update-alternatives --config libblas.so.3-x86_64-linux-gnu` to "
             "choose it: training is many times faster"}};
  if (real.find("openblas-pthread") != std::string::npos)
    return {{Level::kWarning, "blas", what,
             "the pthread build of OpenBLAS runs its own threads beside torch's OpenMP ones; apt install "
             "libopenblas0-openmp and select it (update-alternatives)"}};
  return {{Level::kOk, "blas", what, ""}};
}

std::vector<Finding> CheckPort(const DoctorOptions& o) {
  std::string host = "127.0.0.1", port_text = o.listen;
  if (const size_t colon = o.listen.rfind(':'); colon != std::string::npos) {
    host = o.listen.substr(0, colon);
    port_text = o.listen.substr(colon + 1);
  }
  if (host.empty()) host = "0.0.0.0";
  const int port = std::atoi(port_text.c_str());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (port <= 0 || port > 65535 || inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    return {{Level::kInfo, "port", "not checked: " + o.listen + " is not an IPv4 HOST:PORT", ""}};
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as lathe serve binds
  const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::close(fd);
  if (rc == 0) return {{Level::kOk, "port", o.listen + " is free for lathe serve", ""}};
  if (err == EACCES)
    return {{Level::kError, "port", o.listen + ": binding needs privileges (a port below 1024)",
             "use a port above 1023 (--listen 0.0.0.0:8080), or give the service CAP_NET_BIND_SERVICE"}};
  if (err != EADDRINUSE)
    return {{Level::kError, "port", o.listen + ": cannot bind: " + std::strerror(err), "check --listen's address"}};
  // In use: by a lathe serve on this data directory (it holds serve.lock), or by something else.
  const std::string lock = o.data_dir + "/serve.lock";
  const int lfd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  bool held = false;
  if (lfd >= 0) {
    held = ::flock(lfd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(lfd);  // releases the lock if this call took it
  }
  if (held)
    return {{Level::kInfo, "port", o.listen + " is in use, and a lathe serve is running on " + o.data_dir +
                                      " (it holds serve.lock): probably that one", ""}};
  return {{Level::kWarning, "port", o.listen + " is in use by another program",
           "`ss -ltnp 'sport = :" + std::to_string(port) + "'` shows which; stop it or start lathe serve with another --listen"}};
}

std::vector<Finding> CheckClock(const DoctorOptions& o) {
  const std::string window = "SigV4 refuses requests signed more than 15 minutes away from the server's clock";
  if (o.clock_url.empty())
    return {{Level::kInfo, "clock", "not compared with another clock (" + window + ")",
             "`timedatectl` shows whether NTP keeps it right; `lathe doctor --clock-url https://a-server-you-trust` "
             "compares it with that server's Date header"}};
  if (o.clock_url.size() > 2048 || (o.clock_url.rfind("http://", 0) != 0 && o.clock_url.rfind("https://", 0) != 0))
    return {{Level::kError, "clock", "--clock-url must be an http:// or https:// URL", ""}};
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  std::string date;
  auto on_header = +[](char* data, size_t size, size_t n, void* user) -> size_t {
    std::string line(data, size * n);
    if (line.size() > 5 && strncasecmp(line.c_str(), "date:", 5) == 0) *static_cast<std::string*>(user) = line.substr(5);
    return size * n;
  };
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, o.clock_url.c_str());
  curl_easy_setopt(h, CURLOPT_NOBODY, 1L);  // HEAD: the headers only, no download
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &date);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  const CURLcode rc = curl_easy_perform(h);
  const std::time_t local = std::time(nullptr);
  if (rc != CURLE_OK)
    return {{Level::kWarning, "clock", "could not reach " + o.clock_url + ": " + curl_easy_strerror(rc),
             "give a URL this machine can reach, or check the clock with `timedatectl`"}};
  const std::time_t remote = curl_getdate(date.c_str(), nullptr);
  if (date.empty() || remote < 0)
    return {{Level::kWarning, "clock", o.clock_url + " sent no usable Date header", "try another URL"}};
  const long skew = static_cast<long>(local - remote);
  const std::string what = "this clock is " + std::to_string(std::labs(skew)) + " s " + (skew >= 0 ? "ahead of " : "behind ") +
                           o.clock_url + " (its Date header, 1 s resolution)";
  if (std::labs(skew) > 300)
    return {{std::labs(skew) > 900 ? Level::kError : Level::kWarning, "clock", what + "; " + window,
             "enable NTP (`timedatectl set-ntp true`) or set the time; clients on correct clocks will be refused"}};
  return {{Level::kOk, "clock", what, ""}};
}

}  // namespace lathe::cli
