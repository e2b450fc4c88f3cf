#define BOOST_TEST_MODULE hearth_integration
#include <boost/test/unit_test.hpp>
