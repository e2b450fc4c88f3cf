// The program tests: what needs the programs' own code (runner/, grid-agent/)
// and is still a unit test: the agent in-process, its settings table, the
// job launch plan, the clients' credentials, the MPI program's dispatcher and
// workers over an in-process link (tests/fakes/fake_link.hpp). The unit binary links only
// core/ and plugins/ (and fakes); this one links the programs as well.
#define BOOST_TEST_MODULE hearth_program
#include <boost/test/unit_test.hpp>
