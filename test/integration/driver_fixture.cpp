#include "driver_fixture.hpp"

#include <dirent.h>

namespace gauth::test {

int open_fd_count() {
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    ::closedir(dir);
  }
  return count - 1;  // the directory stream itself
}

}  // namespace gauth::test
