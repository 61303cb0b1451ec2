"""Publishing to the Hugging Face Hub: ``odin-ner-re push`` and ``hub/push.py`` are :mod:`.push`.

One module per idea, in the order a push runs:

* :mod:`.push` - the command line (one parser for the script and the sub-command) and exit codes;
* :mod:`.dataset` - ``push dataset``: build the configs and stage the parquet layout and card;
* :mod:`.model` - ``push model``: stage a training output folder with its card;
* :mod:`.trained_model` - what a training output folder holds, checked;
* :mod:`.model_card` - the model card (the dataset card is :mod:`odin_medical_ner_re.cards`);
* :mod:`.staging` - the folder that becomes the repository, written atomically;
* :mod:`.upload` - the upload plan, the Hub calls and the retry command;
* :mod:`.tokens` - the token, kept out of every error text and staged file.

Nothing here is imported by ``import odin_medical_ner_re``: ``huggingface_hub`` loads only on a push.
"""
