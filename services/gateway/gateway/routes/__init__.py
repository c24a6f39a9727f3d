"""gateway routes: one APIRouter per file."""
