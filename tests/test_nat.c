/* placeholder, being written */
#include "tests.h"

Suite *
nat_suite(void)
{
    return suite_create("nat");
}
