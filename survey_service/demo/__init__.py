"""The demo county, modelled on 乌恰县 (Xinjiang) from the seed documents."""
