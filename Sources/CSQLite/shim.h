// Debian's libsqlite3-dev: the study database of `tune`.
#include <sqlite3.h>
