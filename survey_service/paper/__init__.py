"""Paper questionnaires (纸质问卷): numbered forms printed per school × group, each entered twice
(double entry, after EpiData), compared item by item, and stored as an answer only once both entries
agree or a third look has settled every difference."""
