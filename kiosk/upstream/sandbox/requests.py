"""The request bodies the sandbox accepts (docs/upstream-api.md), as strict pydantic models.

Unknown keys are ignored (the terminal may send more than the platform reads); a wrong
type or a missing key is a 400 ``invalid_request`` naming the key.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fleet.protocol import EVALUATION_LEVELS

Text = Annotated[str, StringConstraints(max_length=2000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Level = Literal[EVALUATION_LEVELS]  # type: ignore[valid-type]
MAX_PAGE = 32 << 20  # the largest page image, bytes


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Applicant(_Body):
    name: Name
    id_number: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    gender: Text = ""
    nation: Text = ""
    birth_date: Text = ""
    address: Text = ""
    phone: Text = ""


class MaterialEntry(_Body):
    index: Annotated[int, Field(ge=0, lt=100)]
    name: Name
    pages: Annotated[int, Field(ge=0, le=200)]  # 0: declared, nothing to upload


class CaseRequest(_Body):
    item_code: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    applicant: Applicant
    form: dict[Annotated[str, StringConstraints(max_length=100)], Text] = Field(default_factory=dict, max_length=200)
    materials: list[MaterialEntry] = Field(default_factory=list, max_length=100)
    agent: Text = ""
    ref: Annotated[str, StringConstraints(max_length=64)] = ""  # the terminal's own reference


class UploadHead(_Body):
    name: Name
    size: Annotated[int, Field(ge=1, le=MAX_PAGE)]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class SearchRequest(_Body):
    id_number: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class EvaluationRequest(_Body):
    case_no: Annotated[str, StringConstraints(max_length=64)] = ""  # "" = a service with no case
    level: Level
    followup: dict[Literal["overall", "efficiency", "service", "attitude"], Level] = Field(default_factory=dict)
    problems: list[Text] = Field(default_factory=list, max_length=20)
    comment: Text = ""


class ComplaintRequest(EvaluationRequest):
    callback_phone: Annotated[str, StringConstraints(pattern=r"^([0-9+\- ]{5,20})?$")] = ""


class SlotRef(_Body):
    slot_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class WindowBooking(_Body):
    kind: Literal["window"]
    window: Name
    slot: SlotRef
    name: Text = ""
    phone: Text = ""
    purpose: Text = ""


class HomeVisitBooking(_Body):
    kind: Literal["home_visit"]
    name: Name
    address: Name
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9+\- ]{5,20}$")]
    window: Text = ""
    day: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    purpose: Text = ""


class Booking(BaseModel):
    request: Annotated[WindowBooking | HomeVisitBooking, Field(discriminator="kind")]
