"""AppTest of the contextual embeddings lesson."""


def test_page_shows_shape_bank_matrix_and_search(open_page):
    app = open_page("embeddings", timeout=180)
    assert not app.exception, app.exception
    assert app.metric[0].value == "(1, 11, 384)"
    within, across = (float(m.value) for m in app.metric[1:3])
    assert within > across
    hits = app.dataframe[-1].value
    assert "umbrella" in hits["sentence"].iloc[0] or "rain" in hits["sentence"].iloc[0]

    app.text_input(key="embeddings_sentence").input("We had a picnic on the bank of the stream.").run()
    assert not app.exception
    assert "picnic" in app.dataframe[0].value["sentence"].iloc[-1]

    app.text_input(key="embeddings_word").input("zebra").run()
    assert "does not appear" in app.warning[0].value

    app.text_input(key="embeddings_query").input("   ").run()
    assert any("Type a question" in w.value for w in app.warning)
