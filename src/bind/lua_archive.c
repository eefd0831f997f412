/*
 * lua_archive.c - placeholder: the archive bindings are not built yet.
 */
#include "jpl.h"

void jpl_open_archive(lua_State *L)
{
    (void)L;
}
