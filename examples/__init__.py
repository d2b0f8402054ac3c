"""Three example sector systems shaped the way agencies' systems are (an open-data API, a
multi-year report table, a state CSV file), generated from one seed, with the configs that
connect them (README "Connect your own system: three worked examples")."""
