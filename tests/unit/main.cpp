#define BOOST_TEST_MODULE hearth_unit
#include <boost/test/unit_test.hpp>
