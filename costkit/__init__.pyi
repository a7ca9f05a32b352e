"""Type stub of :mod:`costkit` for editors and type checkers.

``costkit/__init__.py`` imports these names on first use (``import costkit`` stays light);
this stub declares them, so completion and ``mypy`` see every public name and submodule.
``tests/test_setup.py`` checks that it lists exactly what ``__init__.py`` serves.
"""

from . import (
    billing as billing,
)
from . import (
    capacity as capacity,
)
from . import (
    catalog as catalog,
)
from . import (
    cli as cli,
)
from . import (
    decision as decision,
)
from . import (
    engine as engine,
)
from . import (
    exercises as exercises,
)
from . import (
    fleet as fleet,
)
from . import (
    fx as fx,
)
from . import (
    grid as grid,
)
from . import (
    hosted_api as hosted_api,
)
from . import (
    kernels as kernels,
)
from . import (
    ledger as ledger,
)
from . import (
    mfu as mfu,
)
from . import (
    moe as moe,
)
from . import (
    monitoring as monitoring,
)
from . import (
    optimization as optimization,
)
from . import (
    plots as plots,
)
from . import (
    price_lists as price_lists,
)
from . import (
    report as report,
)
from . import (
    roi as roi,
)
from . import (
    scenario as scenario,
)
from . import (
    serving as serving,
)
from . import (
    serving_efficiency as serving_efficiency,
)
from . import (
    style as style,
)
from . import (
    telemetry as telemetry,
)
from . import (
    token_day as token_day,
)
from . import (
    training as training,
)
from . import (
    tuning as tuning,
)
from . import (
    units as units,
)
from . import (
    validation as validation,
)
from . import (
    widgets as widgets,
)
from . import (
    workshop as workshop,
)
from ._tables import (
    DataFileError as DataFileError,
)
from ._tables import (
    UnknownNameError as UnknownNameError,
)
from .catalog import (
    DTYPES as DTYPES,
)
from .catalog import (
    GPU as GPU,
)
from .catalog import (
    Model as Model,
)
from .catalog import (
    PriceQuote as PriceQuote,
)
from .catalog import (
    gpu as gpu,
)
from .catalog import (
    gpu_hour_price as gpu_hour_price,
)
from .catalog import (
    gpu_prices as gpu_prices,
)
from .catalog import (
    gpus as gpus,
)
from .catalog import (
    model as model,
)
from .catalog import (
    models as models,
)
from .catalog import (
    price_quote as price_quote,
)
from .catalog import (
    price_summary as price_summary,
)
from .catalog import (
    read_skypilot_catalog as read_skypilot_catalog,
)
from .fx import (
    convert as convert,
)
from .fx import (
    fx_rate as fx_rate,
)
from .fx import (
    fx_rates as fx_rates,
)
from .fx import (
    in_currency as in_currency,
)
from .grid import (
    grid_intensity as grid_intensity,
)
from .ledger import (
    PHASES as PHASES,
)
from .ledger import (
    Ledger as Ledger,
)
from .ledger import (
    LineItem as LineItem,
)
from .ledger import (
    four_part_ledger as four_part_ledger,
)
from .ledger import (
    phase_cost as phase_cost,
)
from .scenario import (
    Scenario as Scenario,
)
from .scenario import (
    ScenarioError as ScenarioError,
)
from .units import (
    UnitError as UnitError,
)
from .units import (
    parse_price_unit as parse_price_unit,
)
from .units import (
    parse_unit as parse_unit,
)

__version__: str
__all__: list[str]
