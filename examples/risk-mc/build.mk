# The bank-quant example (examples/risk-mc): risk_mc, the task program, and
# risk_merge, the merge step, both linked with QuantLib (libquantlib0-dev).
# Included by the top-level Makefile; also usable alone:
#   make -f examples/risk-mc/build.mk BUILD=build risk-mc
BUILD ?= build
RISK_MC_CXX ?= g++
RISK_MC_CXXFLAGS := -std=c++20 -O2 -Wall -Wextra -Werror -I. -MMD -MP
RISK_MC_LIBS := -lQuantLib

RISK_MC_DIR := $(BUILD)/examples/risk-mc
RISK_MC_COMMON := model cli stats block_file
RISK_MC_COMMON_OBJ := $(patsubst %,$(RISK_MC_DIR)/obj/%.o,$(RISK_MC_COMMON))
RISK_MC_BIN := $(RISK_MC_DIR)/risk_mc $(RISK_MC_DIR)/risk_merge

.PHONY: risk-mc
risk-mc: $(RISK_MC_BIN)

$(RISK_MC_DIR)/obj/%.o: examples/risk-mc/%.cpp
	@mkdir -p $(dir $@)
	$(RISK_MC_CXX) $(RISK_MC_CXXFLAGS) -c $< -o $@

$(RISK_MC_DIR)/risk_mc $(RISK_MC_DIR)/risk_merge: $(RISK_MC_DIR)/%: $(RISK_MC_DIR)/obj/%.o $(RISK_MC_COMMON_OBJ)
	$(RISK_MC_CXX) -o $@ $^ $(RISK_MC_LIBS)

-include $(RISK_MC_COMMON_OBJ:.o=.d) $(RISK_MC_DIR)/obj/risk_mc.d $(RISK_MC_DIR)/obj/risk_merge.d
