// setgroups/setgid/setuid after binding, with the data folder handed over first.
#include "app/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/log.h"

namespace postern::app {

core::Result<void, std::string> drop_privileges(const std::string& user) {
  if (::geteuid() != 0) return {};
  if (user.empty()) {
    POSTERN_LOG_WARN("app event=running-as-root hint=set-run_as_user");
    return {};
  }
  errno = 0;
  const passwd* entry = ::getpwnam(user.c_str());
  if (entry == nullptr) {
    return "run_as_user '" + user +
           "' does not exist; create it or set run_as_user to another user";
  }
  const uid_t uid = entry->pw_uid;
  const gid_t gid = entry->pw_gid;
  // The store, spool and TLS files must stay writable after the drop. We are
  // inside the data folder (serve.cpp chdir'ed), so paths are relative and
  // need no search permission on its parents.
  std::error_code error;
  if (::chown(".", uid, gid) != 0) return std::string("cannot hand the data folder to ") + user;
  for (auto it = std::filesystem::recursive_directory_iterator(".", error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (::lchown(it->path().c_str(), uid, gid) != 0) {
      return "cannot hand " + it->path().string() + " to " + user + ": " + std::strerror(errno);
    }
  }
  if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
    return std::string("cannot drop privileges to ") + user + ": " + std::strerror(errno);
  }
  if (::setuid(0) == 0) return std::string("dropped privileges could be regained; refusing to run");
  POSTERN_LOG_INFO("app event=privileges-dropped user=%s uid=%u", user.c_str(),
                   static_cast<unsigned>(uid));
  return {};
}

}  // namespace postern::app
