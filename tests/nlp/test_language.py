from nlp.language import LanguageIdentifier


def test_languages_of_reviews_tweets_and_very_short_texts() -> None:
    identify = LanguageIdentifier()
    texts = [
        "Bonjour, je suis très déçu du service client depuis trois mois",
        "The room was clean and the staff were lovely",
        "Das Frühstück war leider kalt und teuer",
        "Nul.",
        "Top !",
        "great",
        "12345",
    ]
    assert identify(texts) == ["fr", "en", "de", "fr", "fr", "en", "fr"]
