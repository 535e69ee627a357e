"""Darwin's plugin contract: hook specifications, typed registries, protocols and records."""

from .errors import (
    BudgetExceededError,
    ConflictError,
    CorruptBlobError,
    CorruptRecordError,
    DarwinError,
    LeaseHeldError,
    LeaseLostError,
    MissingDependencyError,
    NotFoundError,
    PluginError,
    SandboxError,
    StorageError,
    StorageUnavailableError,
    UnknownBackendError,
    UserError,
)
from .markers import ENTRY_POINT_GROUP, PROJECT_NAME, hookimpl, hookspec
from .protocols import (
    LEDGER,
    ArchiveView,
    Benchmark,
    BuildContext,
    Executor,
    GenerationContext,
    Inspiration,
    Generator,
    Memory,
    Predictor,
    Sandbox,
    SelectionStrategy,
    Sibling,
    SpendLedger,
    Storage,
)
from .storage_api import (
    Batch,
    CellLease,
    Lease,
    LeaseCell,
    LeaseHolder,
    StorageDefaults,
    acquire_lease,
    list_keys,
    open_batch,
)
from .records import (
    Attempt,
    ExecRequest,
    ExecResult,
    Prediction,
    Proposal,
    RunInfo,
    RunSummary,
    Target,
    TaskResult,
    TaskSpec,
    Usage,
    Variant,
    to_dict,
)
from .metrics import Objective, bound_artifacts, finite_metric
from .population import Axis, Group, Member, Population, PopulationSource
from .registry import (
    REGISTRY_TYPES,
    BackendSpec,
    BenchmarkRegistry,
    ExecutorRegistry,
    GeneratorRegistry,
    MemoryRegistry,
    PredictorRegistry,
    Registry,
    SandboxRegistry,
    SelectorRegistry,
    StorageRegistry,
    missing_members,
    protocol_members,
)

__all__ = [name for name in dir() if not name.startswith("_")]
