-- ComputeReorderPoint answers are cached beside forecasts and stockout predictions.
alter table ml_predictions drop constraint if exists ml_predictions_kind_check;
alter table ml_predictions add constraint ml_predictions_kind_check check (kind in ('demand', 'stockout', 'reorder_point'));
