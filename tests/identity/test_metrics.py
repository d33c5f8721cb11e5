import duckdb
import pytest

from crosswalk.identity.evaluate import scores


def test_pairwise_and_bcubed_on_a_known_case():
    # Truth: persons A = {1,2,3}, B = {4,5}. Prediction: {1,2}, {3,4,5}.
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE truth AS SELECT * FROM (VALUES ('1','A'),('2','A'),('3','A'),('4','B'),('5','B')) t(record_key, person)"
    )
    con.execute(
        "CREATE TABLE predicted AS SELECT * FROM (VALUES ('1',1),('2',1),('3',2),('4',2),('5',2)) t(record_key, cluster)"
    )
    n, true_pairs, pred_pairs, tp, bp, br = scores(con, "predicted", "truth")
    assert (n, true_pairs, pred_pairs, tp) == (5, 4, 4, 2)
    # B-cubed precision: records 1,2 -> 2/2; 3 -> 1/3; 4,5 -> 2/3 each => (1+1+1/3+2/3+2/3)/5
    assert bp == pytest.approx((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3) / 5)
    # B-cubed recall: 1,2 -> 2/3; 3 -> 1/3; 4,5 -> 2/2 => (2/3+2/3+1/3+1+1)/5
    assert br == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)


def test_perfect_prediction_scores_one():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE truth AS SELECT * FROM (VALUES ('1','A'),('2','A'),('3','B')) t(record_key, person)"
    )
    con.execute(
        "CREATE TABLE predicted AS SELECT * FROM (VALUES ('1',7),('2',7),('3',8)) t(record_key, cluster)"
    )
    _, true_pairs, pred_pairs, tp, bp, br = scores(con, "predicted", "truth")
    assert true_pairs == pred_pairs == tp == 1
    assert bp == br == 1.0
