// Interface strings in English and French, the language choice, and number / date formatting per language.

const STRINGS = {
  en: {
    app_tagline: "Customer journey map",
    workspace: "Workspace",
    live: "Live",
    updated: "updated {time}",
    connecting: "Connecting…",
    offline: "Connection lost, retrying…",
    language: "Language",
    import_csv: "Import CSV",
    export_label: "Export the map",
    export_svg: "Export the map as SVG",
    export_png: "Export the map as PNG",
    exporting: "Preparing the image…",
    report: "Report",
    report_hint: "A printable one-page report for management",
    change_key: "Change key",
    filters: "Filters",
    date_from: "From",
    date_to: "To",
    kind: "Kind",
    source: "Source",
    segment: "Segment",
    language_filter: "Language",
    all: "All",
    reset_filters: "Reset filters",
    dates_reversed: "The start date is after the end date.",
    kind_review: "Reviews",
    kind_survey: "Surveys",
    kind_social: "Social posts",
    lang_fr: "French",
    lang_en: "English",
    kpi_feedback: "Feedback analysed",
    kpi_feedback_sub: "{m} journey mentions found",
    kpi_nps: "NPS",
    kpi_nps_sub: "{n} answers · {p} promoters, {d} detractors",
    kpi_nps_none: "no NPS answer",
    kpi_csat: "CSAT",
    kpi_csat_sub: "ratings of 4–5 out of 5 · {n} rated",
    kpi_rating: "Mean rating",
    kpi_rating_sub: "out of 5 · {n} rated",
    kpi_none: "no rating",
    alerts_title: "Alerts",
    alerts_week: "Week of {from} – {to}, against the {weeks} weeks before",
    alerts_none: "No alert: every stage and touchpoint is within its usual range this week.",
    alert_text: "{label} ({dimension}): {metric} {direction}",
    alert_numbers: "{value} this week, usually {baseline} · z = {z} · {n} mentions",
    alert_numbers_q: "{value} this week, usually {baseline} ({delta}) · {n} mentions · adjusted p {q}",
    alerts_history: "Not enough history yet (alerts start after {n} weeks of data; {k} so far).",
    alerts_history_mentions: "They also need {m} mentions in those weeks ({k} so far).",
    alerts_no_data: "No alert: there is no feedback to compare yet.",
    alerts_more: "{n} more alerts",
    alerts_capped: "The {n} strongest of {total} alerts.",
    points: "{n} pts",
    mentions_delta: "{n} mentions",
    metric_volume: "mention volume",
    metric_irritant_share: "irritant share",
    dir_up: "up",
    dir_down: "down",
    dimension_stage: "stage",
    dimension_touchpoint: "touchpoint",
    map_title: "The customer journey",
    curve_title: "Emotion curve",
    curve_hint:
      "Mean sentiment of the mentions at each stage (from −1 to +1) with its 95% confidence interval, and the share of irritants and delights. Click a stage to read its verbatims.",
    axis_sentiment: "Mean sentiment",
    axis_volume: "Mentions",
    axis_shares: "Irritants / delights",
    legend_mean: "Mean sentiment",
    legend_ci: "95% confidence interval",
    legend_irritants: "Irritants",
    legend_delights: "Delights",
    no_mentions: "no mention",
    heatmap_title: "Stage × touchpoint",
    heatmap_hint:
      "Each cell: mean sentiment (colour and first number), number of mentions, then its share of irritants (left, orange) and of delights (right, teal). The fewer the mentions, the fainter the colour; dashed: fewer than 5. Click a cell to read its verbatims.",
    heat_negative: "negative",
    heat_positive: "positive",
    heat_few: "fewer than 5 mentions",
    mentions_n: "{n} mentions",
    mention_1: "1 mention",
    point_label:
      "{stage}: mean sentiment {mean} (95% CI {low} to {high}), {n} mentions, {irritants} irritants, {delights} delights. Show the verbatims.",
    cell_label:
      "{stage} × {touchpoint}: mean sentiment {mean}, {n} mentions, {irritants} irritants, {delights} delights. Show the verbatims.",
    share_irritants: "irritant share",
    share_delights: "delight share",
    stage_table_title: "Stage by stage",
    stage_table_hint: "Scores of the feedback that mentions each stage.",
    row_mentions: "Mentions",
    row_sentiment: "Mean sentiment",
    row_ci: "95% CI",
    row_irritants: "Irritants",
    row_delights: "Delights",
    row_net: "Net sentiment",
    row_emotion: "Dominant emotion",
    row_nps: "NPS",
    row_csat: "CSAT",
    row_rating: "Mean rating",
    row_change: "Change vs previous period",
    significant: "significant",
    not_significant: "not significant",
    drill_stage: "Verbatims · {stage}",
    drill_cell: "Verbatims · {stage} × {touchpoint}",
    drill_count: "{n} pieces of feedback mention this",
    drill_legend:
      "Highlighted: the passage about this moment of the journey. Bold: the words that carry the sentiment.",
    drill_close: "Close",
    drill_more: "Show more",
    drill_empty: "No verbatim for this selection.",
    themes_irritants: "Top irritants",
    themes_delights: "Top delights",
    themes_hint: "Themes (stage × touchpoint) ranked by priority: share of the feedback × intensity.",
    focus_stage: "Stage",
    all_stages: "All stages",
    theme_priority: "priority {p}",
    theme_stats: "{m} mentions · {s} of the feedback · sentiment {v}",
    theme_impact: "Without it: rating {r}, NPS {n}",
    theme_trend: "8-week trend of its share: {d}",
    theme_topics: "Topics",
    theme_read: "Read all verbatims",
    trend_rising: "rising",
    trend_falling: "falling",
    trend_stable: "stable",
    trend_shares: "share {a} → {b}",
    theme_split: "A broad theme: what it holds, by topic",
    more_verbatims: "{n} more verbatims",
    themes_empty_irritant: "No irritant in this selection.",
    themes_empty_delight: "No delight in this selection.",
    topics_title: "Irritant topics",
    topics_hint:
      "Topics found in the irritant mentions of the stage (over all its feedback: the filters do not apply).",
    topics_computing: "Computing the topics… they appear here as soon as they are ready.",
    topics_empty: "Not enough irritant mentions to find topics.",
    topics_error: "The topics could not be computed: {e}",
    topic_size: "{n} mentions",
    import_title: "Import a CSV export",
    import_hint:
      "Reviews, survey answers or social posts: the columns (text, date, rating, NPS, source…) are recognised from common French and English headers.",
    file_label: "CSV file",
    rows_are: "Rows are",
    upload_button: "Upload and analyse",
    upload_source: "Source (optional)",
    upload_source_hint: "e.g. trustpilot: overrides a source column",
    choose_file: "Choose a CSV file first.",
    upload_sending: "Sending the file…",
    upload_queued: "Queued",
    upload_running: "Reading and analysing the rows…",
    upload_done: "Done: the map includes this file.",
    upload_failed: "The upload failed: {e}",
    upload_refused: "The file was refused: {e}",
    progress_reading: "Reading the file: {r} rows read…",
    progress_analysing: "{a} of {s} stored rows analysed",
    mapping_title: "Which column holds what?",
    mapping_hint: "{file}: {n} columns. Pick the column with the feedback text; the others are optional.",
    mapping_no_text: "No column with a usual name for the feedback text (text, comment, review, avis…) was found.",
    mapping_text: "Feedback text (required)",
    mapping_date: "Date",
    mapping_rating: "Rating",
    mapping_id: "Id of the row",
    mapping_none: "— none —",
    mapping_submit: "Import with these columns",
    mapping_cancel: "Cancel",
    mapping_twice: "A column can fill one field only.",
    mapping_needed: "Name the columns to import this file.",
    mapping_cancelled: "Import cancelled: no column was chosen for the text.",
    count_read: "Rows read",
    count_stored: "Stored",
    count_duplicate: "Duplicates",
    count_failed: "Rejected",
    count_analysed: "Analysed",
    errors_title: "Rejected rows",
    col_line: "Line",
    col_column: "Column",
    col_reason: "Reason",
    errors_more: "{n} more rejected rows are not listed.",
    empty_title: "No feedback yet",
    empty_body: "No feedback yet: upload a CSV export of reviews, surveys or social posts to draw the journey map.",
    empty_filtered: "No feedback matches these filters.",
    loading: "Loading…",
    error_panel: "Could not load: {e}",
    key_title: "Open your workspace",
    key_label: "Workspace API key",
    key_hint: "Kept in this browser tab only and sent only in the Authorization header.",
    key_submit: "Open the map",
    key_refused: "The server refused the key: {e}",
    key_missing: "Enter the API key of your workspace.",
    emotion_joy: "joy",
    emotion_trust: "trust",
    emotion_surprise: "surprise",
    emotion_anger: "anger",
    emotion_frustration: "frustration",
    emotion_sadness: "disappointment",
    emotion_fear: "worry",
    emotion_none: "none",
    polarity_irritant: "Irritant",
    polarity_delight: "Delight",
    polarity_neutral: "Neutral",
    rating: "rating",
    footer:
      "Parcours · open-source voice-of-customer text mining · everything on this page is served by your Parcours server",
    report_title: "Customer journey report",
    report_print: "Print",
    report_generated: "Generated on {date}",
    report_filters: "Filters",
    report_all_feedback: "all feedback",
    report_top_irritants: "Top 3 irritants",
    report_top_delights: "Top 3 delights",
    report_no_key: "Open the report from the journey map page (the workspace key is read from this browser tab).",
    export_title: "Customer journey map · {ws}",
    export_sub: "Filters: {filters} · exported on {date}",
    mapping_nps: "NPS (0–10)",
    mapping_source: "Source",
    recent_title: "Recent uploads",
    recent_running: "running",
    recent_done: "done",
    recent_failed: "failed",
    recent_counts: "{s} stored · {a} analysed · {f} rejected",
    alert_topic: "Emerging topic: {label} in {slice}",
    alert_verbatims: "Read its verbatims ({n})",
    metric_topic_share: "topic share",
    dimension_topic: "topic",
    slice_irritant_stage: "the irritants of {stage}",
    slice_irritant_all: "the irritants (all stages)",
    slice_delight_stage: "the delights of {stage}",
    slice_delight_all: "the delights (all stages)",
    slice_neutral_stage: "the neutral mentions of {stage}",
    slice_neutral_all: "the neutral mentions (all stages)",
    drill_count_listed: "{n} pieces of feedback",
    correct_hint:
      "Wrong? Click a highlighted passage to change its stage, touchpoint or polarity, or to delete it; select words to add a moment the analysis missed.",
    labels_button: "Labels & model",
    touchpoint_filter: "Touchpoint",
    polarity: "Polarity",
    taxonomy_title: "Your journey's labels",
    taxonomy_hint:
      "Your workspace's own stages and touchpoints. A label you add is predicted for new feedback at once, from its description and examples; re-analyse to apply it to older feedback.",
    taxonomy_version: "version {v}",
    stages_title: "Stages",
    touchpoints_title: "Touchpoints",
    label_add_title: "Add a label",
    label_edit_title: "Rename or describe “{name}”",
    label_family: "Kind of label",
    family_touchpoints: "Touchpoint",
    family_stages: "Stage",
    label_name_en: "Name in English",
    label_name_fr: "Name in French",
    label_id: "Id (stable, a-z 0-9 _)",
    label_description: "Description",
    label_examples: "Examples (one per line, 3 or more)",
    label_add: "Add the label",
    label_save: "Save",
    label_edit: "Rename / describe",
    label_retire: "Retire",
    label_retire_confirm: "Retire “{name}”? It will no longer be predicted nor shown.",
    label_need_name: "Give the label a name (French or English).",
    label_need_examples: "Give at least {n} examples, one per line.",
    label_saved: "Saved: new feedback uses it at once.",
    label_added_done: "Added: new feedback gets it at once; re-analyse to apply it to older feedback.",
    label_retired_done: "“{name}” retired.",
    label_active: "active",
    label_retired: "retired",
    label_merged: "merged into {into}",
    label_added: "added by you",
    merge_title: "Merge two labels",
    merge_from: "Merge",
    merge_into: "into",
    merge_submit: "Merge",
    merge_same: "Choose two different labels.",
    reanalysis_title: "Re-analyse the feedback",
    reanalysis_hint:
      "After a taxonomy change or once your model has learnt: every analysed feedback is analysed again in the background; the map keeps answering meanwhile and your corrections are kept.",
    reanalyse: "Re-analyse all feedback",
    reanalysis_queued: "Queued…",
    reanalysis_running: "{d} of {n} pieces of feedback re-analysed",
    reanalysis_done: "Done: {n} pieces of feedback re-analysed with taxonomy version {v}.",
    reanalysis_failed: "The re-analysis failed: {e}",
    model_title: "Your model",
    model_version: "{base}, adapted version {v}",
    model_adapted: "Your model",
    model_shipped: "Shipped model",
    model_nothing: "Nothing learnt yet: correct a few mentions and your model adapts within a minute.",
    model_no_score: "Too few corrected texts to measure a score yet.",
    model_learnt: "Learnt from {n} corrections ({c} corrected passages)",
    model_pending: "{n} corrections waiting to be learnt…",
    model_items: "Score: share of {n} corrected labels found, each by a model fitted without its text ({k}-fold cross-validation), beside the shipped model on the same items",
    model_fitted: "Fitted {date} in {s} s",
    model_failed: "The last refit failed: {e}",
    model_hint: "The shipped model's score is low by construction: these are the passages it got wrong.",
    review_title: "Review queue",
    review_hint: "The mentions the model is least sure of: reviewing them teaches your model the most.",
    review_empty: "Nothing to review.",
    review_heading: "To review · “{words}”",
    review_confidence: "confidence {p}",
    add_mention: "Add a mention",
    correct_title: "Correct this mention",
    add_title: "Add a missed mention",
    correction_save: "Save the correction",
    correction_delete: "Delete this mention",
    correction_refused: "Not saved: {e}",
  },
  fr: {
    app_tagline: "Carte du parcours client",
    workspace: "Espace",
    live: "En direct",
    updated: "mis à jour à {time}",
    connecting: "Connexion…",
    offline: "Connexion perdue, nouvelle tentative…",
    language: "Langue",
    import_csv: "Importer un CSV",
    export_label: "Exporter la carte",
    export_svg: "Exporter la carte en SVG",
    export_png: "Exporter la carte en PNG",
    exporting: "Préparation de l'image…",
    report: "Rapport",
    report_hint: "Un rapport d'une page à imprimer pour la direction",
    change_key: "Changer de clé",
    filters: "Filtres",
    date_from: "Du",
    date_to: "Au",
    kind: "Type",
    source: "Source",
    segment: "Segment",
    language_filter: "Langue",
    all: "Tous",
    reset_filters: "Réinitialiser les filtres",
    dates_reversed: "La date de début est après la date de fin.",
    kind_review: "Avis",
    kind_survey: "Enquêtes",
    kind_social: "Réseaux sociaux",
    lang_fr: "Français",
    lang_en: "Anglais",
    kpi_feedback: "Retours analysés",
    kpi_feedback_sub: "{m} mentions du parcours trouvées",
    kpi_nps: "NPS",
    kpi_nps_sub: "{n} réponses · {p} promoteurs, {d} détracteurs",
    kpi_nps_none: "aucune réponse NPS",
    kpi_csat: "CSAT",
    kpi_csat_sub: "notes de 4–5 sur 5 · {n} notés",
    kpi_rating: "Note moyenne",
    kpi_rating_sub: "sur 5 · {n} notés",
    kpi_none: "aucune note",
    alerts_title: "Alertes",
    alerts_week: "Semaine du {from} au {to}, comparée aux {weeks} semaines précédentes",
    alerts_none:
      "Aucune alerte : chaque étape et chaque point de contact reste dans sa plage habituelle cette semaine.",
    alert_text: "{label} ({dimension}) : {metric} {direction}",
    alert_numbers: "{value} cette semaine, d'habitude {baseline} · z = {z} · {n} mentions",
    alert_numbers_q: "{value} cette semaine, d'habitude {baseline} ({delta}) · {n} mentions · p ajusté {q}",
    alerts_history:
      "Pas encore assez d'historique (les alertes commencent après {n} semaines de données ; {k} pour l'instant).",
    alerts_history_mentions: "Il faut aussi {m} mentions sur ces semaines ({k} pour l'instant).",
    alerts_no_data: "Aucune alerte : il n'y a pas encore de retours à comparer.",
    alerts_more: "{n} autres alertes",
    alerts_capped: "Les {n} alertes les plus fortes sur {total}.",
    points: "{n} pts",
    mentions_delta: "{n} mentions",
    metric_volume: "volume de mentions",
    metric_irritant_share: "part d'irritants",
    dir_up: "en hausse",
    dir_down: "en baisse",
    dimension_stage: "étape",
    dimension_touchpoint: "point de contact",
    map_title: "Le parcours client",
    curve_title: "Courbe des émotions",
    curve_hint:
      "Sentiment moyen des mentions à chaque étape (de −1 à +1) avec son intervalle de confiance à 95 %, et la part d'irritants et d'enchantements. Cliquez sur une étape pour lire ses verbatims.",
    axis_sentiment: "Sentiment moyen",
    axis_volume: "Mentions",
    axis_shares: "Irritants / enchantements",
    legend_mean: "Sentiment moyen",
    legend_ci: "Intervalle de confiance à 95 %",
    legend_irritants: "Irritants",
    legend_delights: "Enchantements",
    no_mentions: "aucune mention",
    heatmap_title: "Étape × point de contact",
    heatmap_hint:
      "Chaque case : sentiment moyen (couleur et premier nombre), nombre de mentions, puis sa part d'irritants (à gauche, orange) et d'enchantements (à droite, vert). Moins il y a de mentions, plus la couleur est pâle ; en pointillés : moins de 5. Cliquez sur une case pour lire ses verbatims.",
    heat_negative: "négatif",
    heat_positive: "positif",
    heat_few: "moins de 5 mentions",
    mentions_n: "{n} mentions",
    mention_1: "1 mention",
    point_label:
      "{stage} : sentiment moyen {mean} (IC 95 % de {low} à {high}), {n} mentions, {irritants} d'irritants, {delights} d'enchantements. Afficher les verbatims.",
    cell_label:
      "{stage} × {touchpoint} : sentiment moyen {mean}, {n} mentions, {irritants} d'irritants, {delights} d'enchantements. Afficher les verbatims.",
    share_irritants: "part d'irritants",
    share_delights: "part d'enchantements",
    stage_table_title: "Étape par étape",
    stage_table_hint: "Scores des retours qui mentionnent chaque étape.",
    row_mentions: "Mentions",
    row_sentiment: "Sentiment moyen",
    row_ci: "IC 95 %",
    row_irritants: "Irritants",
    row_delights: "Enchantements",
    row_net: "Sentiment net",
    row_emotion: "Émotion dominante",
    row_nps: "NPS",
    row_csat: "CSAT",
    row_rating: "Note moyenne",
    row_change: "Évolution sur la période précédente",
    significant: "significatif",
    not_significant: "non significatif",
    drill_stage: "Verbatims · {stage}",
    drill_cell: "Verbatims · {stage} × {touchpoint}",
    drill_count: "{n} retours en parlent",
    drill_legend: "Surligné : le passage sur ce moment du parcours. En gras : les mots qui portent le sentiment.",
    drill_close: "Fermer",
    drill_more: "Afficher plus",
    drill_empty: "Aucun verbatim pour cette sélection.",
    themes_irritants: "Principaux irritants",
    themes_delights: "Principaux enchantements",
    themes_hint: "Thèmes (étape × point de contact) classés par priorité : part des retours × intensité.",
    focus_stage: "Étape",
    all_stages: "Toutes les étapes",
    theme_priority: "priorité {p}",
    theme_stats: "{m} mentions · {s} des retours · sentiment {v}",
    theme_impact: "Sans lui : note {r}, NPS {n}",
    theme_trend: "Tendance de sa part sur 8 semaines : {d}",
    theme_topics: "Sujets",
    theme_read: "Lire tous les verbatims",
    trend_rising: "en hausse",
    trend_falling: "en baisse",
    trend_stable: "stable",
    trend_shares: "part {a} → {b}",
    theme_split: "Un thème large : ce qu'il contient, par sujet",
    more_verbatims: "{n} autres verbatims",
    themes_empty_irritant: "Aucun irritant dans cette sélection.",
    themes_empty_delight: "Aucun enchantement dans cette sélection.",
    topics_title: "Sujets d'irritation",
    topics_hint:
      "Sujets trouvés dans les mentions irritantes de l'étape (sur tous ses retours : les filtres ne s'appliquent pas).",
    topics_computing: "Calcul des sujets en cours… ils s'afficheront ici dès qu'ils seront prêts.",
    topics_empty: "Pas assez de mentions irritantes pour trouver des sujets.",
    topics_error: "Les sujets n'ont pas pu être calculés : {e}",
    topic_size: "{n} mentions",
    import_title: "Importer un export CSV",
    import_hint:
      "Avis, réponses d'enquête ou publications sociales : les colonnes (texte, date, note, NPS, source…) sont reconnues d'après les en-têtes courants en français et en anglais.",
    file_label: "Fichier CSV",
    rows_are: "Les lignes sont des",
    upload_button: "Importer et analyser",
    upload_source: "Source (facultative)",
    upload_source_hint: "ex. trustpilot : remplace une colonne source",
    choose_file: "Choisissez d'abord un fichier CSV.",
    upload_sending: "Envoi du fichier…",
    upload_queued: "En file d'attente",
    upload_running: "Lecture et analyse des lignes…",
    upload_done: "Terminé : la carte inclut ce fichier.",
    upload_failed: "L'import a échoué : {e}",
    upload_refused: "Le fichier a été refusé : {e}",
    progress_reading: "Lecture du fichier : {r} lignes lues…",
    progress_analysing: "{a} lignes analysées sur {s} enregistrées",
    mapping_title: "Quelle colonne contient quoi ?",
    mapping_hint: "{file} : {n} colonnes. Choisissez la colonne du texte des retours ; les autres sont facultatives.",
    mapping_no_text:
      "Aucune colonne au nom habituel pour le texte des retours (texte, commentaire, avis, review…) n'a été trouvée.",
    mapping_text: "Texte du retour (obligatoire)",
    mapping_date: "Date",
    mapping_rating: "Note",
    mapping_id: "Identifiant de la ligne",
    mapping_none: "— aucune —",
    mapping_submit: "Importer avec ces colonnes",
    mapping_cancel: "Annuler",
    mapping_twice: "Une colonne ne peut remplir qu'un seul champ.",
    mapping_needed: "Indiquez les colonnes pour importer ce fichier.",
    mapping_cancelled: "Import annulé : aucune colonne choisie pour le texte.",
    count_read: "Lignes lues",
    count_stored: "Enregistrées",
    count_duplicate: "Doublons",
    count_failed: "Rejetées",
    count_analysed: "Analysées",
    errors_title: "Lignes rejetées",
    col_line: "Ligne",
    col_column: "Colonne",
    col_reason: "Motif",
    errors_more: "{n} autres lignes rejetées ne sont pas listées.",
    empty_title: "Aucun retour pour l'instant",
    empty_body:
      "Aucun retour pour l'instant : importez un export CSV d'avis, d'enquêtes ou de publications pour dessiner la carte du parcours.",
    empty_filtered: "Aucun retour ne correspond à ces filtres.",
    loading: "Chargement…",
    error_panel: "Chargement impossible : {e}",
    key_title: "Ouvrir votre espace",
    key_label: "Clé d'API de l'espace",
    key_hint: "Conservée dans cet onglet uniquement et envoyée seulement dans l'en-tête Authorization.",
    key_submit: "Ouvrir la carte",
    key_refused: "Le serveur a refusé la clé : {e}",
    key_missing: "Saisissez la clé d'API de votre espace.",
    emotion_joy: "joie",
    emotion_trust: "confiance",
    emotion_surprise: "surprise",
    emotion_anger: "colère",
    emotion_frustration: "agacement",
    emotion_sadness: "déception",
    emotion_fear: "inquiétude",
    emotion_none: "aucune",
    polarity_irritant: "Irritant",
    polarity_delight: "Enchantement",
    polarity_neutral: "Neutre",
    rating: "note",
    footer:
      "Parcours · analyse open source de la voix du client · tout ce qui s'affiche ici est servi par votre serveur Parcours",
    report_title: "Rapport parcours client",
    report_print: "Imprimer",
    report_generated: "Généré le {date}",
    report_filters: "Filtres",
    report_all_feedback: "tous les retours",
    report_top_irritants: "Les 3 principaux irritants",
    report_top_delights: "Les 3 principaux enchantements",
    report_no_key: "Ouvrez le rapport depuis la carte du parcours (la clé de l'espace est lue dans cet onglet).",
    export_title: "Carte du parcours client · {ws}",
    export_sub: "Filtres : {filters} · exporté le {date}",
    mapping_nps: "NPS (0–10)",
    mapping_source: "Source",
    recent_title: "Imports récents",
    recent_running: "en cours",
    recent_done: "terminé",
    recent_failed: "échoué",
    recent_counts: "{s} enregistrés · {a} analysés · {f} rejetés",
    alert_topic: "Sujet émergent : {label} dans {slice}",
    alert_verbatims: "Lire ses verbatims ({n})",
    metric_topic_share: "part du sujet",
    dimension_topic: "sujet",
    slice_irritant_stage: "les irritants de l'étape {stage}",
    slice_irritant_all: "les irritants (toutes étapes)",
    slice_delight_stage: "les enchantements de l'étape {stage}",
    slice_delight_all: "les enchantements (toutes étapes)",
    slice_neutral_stage: "les mentions neutres de l'étape {stage}",
    slice_neutral_all: "les mentions neutres (toutes étapes)",
    drill_count_listed: "{n} retours",
    correct_hint:
      "Une erreur ? Cliquez sur un passage surligné pour changer son étape, son point de contact ou sa polarité, ou pour le supprimer ; sélectionnez des mots pour ajouter un moment oublié par l'analyse.",
    labels_button: "Libellés et modèle",
    touchpoint_filter: "Point de contact",
    polarity: "Polarité",
    taxonomy_title: "Les libellés de votre parcours",
    taxonomy_hint:
      "Les étapes et points de contact propres à votre espace. Un libellé ajouté est prédit aussitôt pour les nouveaux retours, d'après sa description et ses exemples ; relancez l'analyse pour l'appliquer aux anciens.",
    taxonomy_version: "version {v}",
    stages_title: "Étapes",
    touchpoints_title: "Points de contact",
    label_add_title: "Ajouter un libellé",
    label_edit_title: "Renommer ou décrire « {name} »",
    label_family: "Type de libellé",
    family_touchpoints: "Point de contact",
    family_stages: "Étape",
    label_name_en: "Nom en anglais",
    label_name_fr: "Nom en français",
    label_id: "Identifiant (stable, a-z 0-9 _)",
    label_description: "Description",
    label_examples: "Exemples (un par ligne, 3 ou plus)",
    label_add: "Ajouter le libellé",
    label_save: "Enregistrer",
    label_edit: "Renommer / décrire",
    label_retire: "Retirer",
    label_retire_confirm: "Retirer « {name} » ? Il ne sera plus prédit ni affiché.",
    label_need_name: "Donnez un nom au libellé (en français ou en anglais).",
    label_need_examples: "Donnez au moins {n} exemples, un par ligne.",
    label_saved: "Enregistré : les nouveaux retours l'utilisent aussitôt.",
    label_added_done:
      "Ajouté : les nouveaux retours le reçoivent aussitôt ; relancez l'analyse pour l'appliquer aux anciens.",
    label_retired_done: "« {name} » retiré.",
    label_active: "actif",
    label_retired: "retiré",
    label_merged: "fusionné dans {into}",
    label_added: "ajouté par vous",
    merge_title: "Fusionner deux libellés",
    merge_from: "Fusionner",
    merge_into: "dans",
    merge_submit: "Fusionner",
    merge_same: "Choisissez deux libellés différents.",
    reanalysis_title: "Relancer l'analyse",
    reanalysis_hint:
      "Après un changement de libellés ou quand votre modèle a appris : chaque retour analysé est analysé à nouveau en arrière-plan ; la carte continue de répondre et vos corrections sont conservées.",
    reanalyse: "Réanalyser tous les retours",
    reanalysis_queued: "En attente…",
    reanalysis_running: "{d} retours réanalysés sur {n}",
    reanalysis_done: "Terminé : {n} retours réanalysés avec la version {v} des libellés.",
    reanalysis_failed: "La réanalyse a échoué : {e}",
    model_title: "Votre modèle",
    model_version: "{base}, version adaptée {v}",
    model_adapted: "Votre modèle",
    model_shipped: "Modèle livré",
    model_nothing:
      "Rien d'appris pour l'instant : corrigez quelques mentions et votre modèle s'adapte en moins d'une minute.",
    model_no_score: "Trop peu de textes corrigés pour mesurer un score.",
    model_learnt: "Appris de {n} corrections ({c} passages corrigés)",
    model_pending: "{n} corrections en attente d'apprentissage…",
    model_items:
      "Score : part des {n} libellés corrigés retrouvés, chacun par un modèle ajusté sans son texte (validation croisée en {k} parties), à côté du modèle livré sur les mêmes éléments",
    model_fitted: "Ajusté le {date} en {s} s",
    model_failed: "Le dernier ajustement a échoué : {e}",
    model_hint: "Le score du modèle livré est bas par construction : ce sont les passages sur lesquels il s'est trompé.",
    review_title: "File de revue",
    review_hint: "Les mentions dont le modèle est le moins sûr : les revoir apprend le plus à votre modèle.",
    review_empty: "Rien à revoir.",
    review_heading: "À revoir · « {words} »",
    review_confidence: "confiance {p}",
    add_mention: "Ajouter une mention",
    correct_title: "Corriger cette mention",
    add_title: "Ajouter une mention oubliée",
    correction_save: "Enregistrer la correction",
    correction_delete: "Supprimer cette mention",
    correction_refused: "Non enregistré : {e}",
  },
};

export const LANGUAGES = Object.keys(STRINGS);
const STORE = "parcours.lang";
let current = "en";

/** Pick the stored choice, else the browser's language, else English. */
export function initLanguage(forced) {
  let chosen = forced;
  if (!LANGUAGES.includes(chosen)) {
    try {
      chosen = localStorage.getItem(STORE);
    } catch {
      chosen = null;
    }
  }
  if (!LANGUAGES.includes(chosen)) {
    chosen = (navigator.language || "en").toLowerCase().startsWith("fr") ? "fr" : "en";
  }
  current = chosen;
  document.documentElement.lang = current;
  return current;
}

export function lang() {
  return current;
}

/** Switch the interface language and remember the choice. */
export function setLanguage(value) {
  if (!LANGUAGES.includes(value)) return current;
  current = value;
  document.documentElement.lang = value;
  try {
    localStorage.setItem(STORE, value);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  return current;
}

/** The string `key` in the current language, with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Has a string for `key` (emotion and polarity ids come from the model). */
export function has(key) {
  return key in STRINGS[current];
}

/** Fill every element carrying data-i18n (text) or data-i18n-attr ("attr:key;attr:key") under `root`. */
export function applyStatic(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      node.setAttribute(attr, t(key));
    }
  }
}

const formats = new Map();
function formatter(options) {
  const key = current + JSON.stringify(options);
  if (!formats.has(key)) formats.set(key, new Intl.NumberFormat(current, options));
  return formats.get(key);
}

export const DASH = "—";

/** A number with `digits` decimals (fixed), or a dash for null. */
export function num(value, digits = 0, sign = false) {
  if (value === null || value === undefined || Number.isNaN(value)) return DASH;
  return formatter({
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: sign ? "exceptZero" : "auto",
  }).format(value);
}

/** A number with up to `max` decimals (NPS -9.5, 17.6, 75). */
export function decimal(value, max = 1, sign = false) {
  if (value === null || value === undefined || Number.isNaN(value)) return DASH;
  return formatter({
    minimumFractionDigits: 0,
    maximumFractionDigits: max,
    signDisplay: sign ? "exceptZero" : "auto",
  }).format(value);
}

/** A sentiment score: always signed, two decimals (−0.29, +0.19). */
export function sentiment(value) {
  return num(value, 2, true);
}

/** A share in 0..1 as a whole percentage. */
export function percent(share, digits = 0, minDigits = digits) {
  if (share === null || share === undefined) return DASH;
  return formatter({ style: "percent", minimumFractionDigits: minDigits, maximumFractionDigits: digits }).format(share);
}

/** A date (ISO string or Date) as the language writes it; `long` adds the month name. */
export function date(value, long = false) {
  if (!value) return DASH;
  const day = typeof value === "string" && value.length === 10 ? new Date(`${value}T00:00:00`) : new Date(value);
  const options = long
    ? { day: "numeric", month: "long", year: "numeric" }
    : { day: "numeric", month: "short", year: "numeric" };
  return new Intl.DateTimeFormat(current, options).format(day);
}

export function time(value = new Date()) {
  return new Intl.DateTimeFormat(current, { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(value);
}

/** "n mentions" with the singular for one. */
export function mentions(n) {
  return n === 1 ? t("mention_1") : t("mentions_n", { n: num(n) });
}

export function emotion(id) {
  return has(`emotion_${id}`) ? t(`emotion_${id}`) : id;
}
