/* The one test runner: every module's suite. */
#include <stdlib.h>

#include "tests.h"

int
main(void)
{
    SRunner *sr = srunner_create(checksum_suite());
    srunner_add_suite(sr, packet_suite());
    srunner_add_suite(sr, nat_suite());
    srunner_add_suite(sr, rfc_suite());
    srunner_add_suite(sr, steer_suite());
    srunner_add_suite(sr, adversarial_suite());
    srunner_add_suite(sr, guard_suite());
    srunner_add_suite(sr, harden_suite());
    srunner_add_suite(sr, portable_suite());

    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
